"""Building blocks shared by several backbones."""
from .drop_path import stochastic_depth_rates
from .metaformer import (Downsampling, LayerNormWithoutBias, MetaFormerBlock, MetaFormerMlp,
                         Scale, SquaredReLU, StarReLU)
from .patch_embed import ConvPatchEmbed
from .scale import LayerScale2d

__all__ = ['ConvPatchEmbed', 'Downsampling', 'LayerNormWithoutBias', 'LayerScale2d',
           'MetaFormerBlock', 'MetaFormerMlp', 'Scale', 'SquaredReLU', 'StarReLU',
           'stochastic_depth_rates']
