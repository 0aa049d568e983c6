"""Building blocks shared by several backbones."""

from .conv_norm_act import ConvNormAct
from .depthwise import DepthwiseConv2d, depthwise_conv2d
from .drop_path import DropPath, stochastic_depth_rates
from .metaformer import (
    Downsampling,
    LayerNormWithoutBias,
    MetaFormerBlock,
    MetaFormerMlp,
    Scale,
    SquaredReLU,
    StarReLU,
)
from .patch_embed import ConvPatchEmbed
from .scale import LayerScale2d

__all__ = [
    'ConvNormAct',
    'ConvPatchEmbed',
    'DepthwiseConv2d',
    'Downsampling',
    'DropPath',
    'LayerNormWithoutBias',
    'LayerScale2d',
    'MetaFormerBlock',
    'MetaFormerMlp',
    'Scale',
    'SquaredReLU',
    'StarReLU',
    'depthwise_conv2d',
    'stochastic_depth_rates',
]
