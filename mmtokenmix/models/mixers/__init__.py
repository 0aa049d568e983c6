"""Token mixers, one file per paper."""

from .attention import Attention
from .d_mixer import OSRA, DMixer, IDConv, resize_relative_pos_enc
from .dma import DMA, ChannelGate
from .dynamic_filter import DynamicFilter, bicubic_matrix, resize_complex_weight
from .sepconv import SepConv
from .xfa import XFA_VARIANTS, CrossFeatureAttention

__all__ = [
    'Attention',
    'ChannelGate',
    'CrossFeatureAttention',
    'DMA',
    'DMixer',
    'DynamicFilter',
    'IDConv',
    'OSRA',
    'SepConv',
    'XFA_VARIANTS',
    'bicubic_matrix',
    'resize_complex_weight',
    'resize_relative_pos_enc',
]
