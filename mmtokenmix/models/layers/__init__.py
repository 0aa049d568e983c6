"""Building blocks shared by several backbones."""
from .drop_path import stochastic_depth_rates
from .patch_embed import ConvPatchEmbed
from .scale import LayerScale2d

__all__ = ['ConvPatchEmbed', 'LayerScale2d', 'stochastic_depth_rates']
