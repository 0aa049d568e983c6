"""Token mixers, one file per paper."""
from .attention import Attention
from .d_mixer import DMixer, IDConv, OSRA, resize_relative_pos_enc
from .dynamic_filter import DynamicFilter, bicubic_matrix, resize_complex_weight
from .sepconv import SepConv
from .xfa import XFA_VARIANTS, CrossFeatureAttention

__all__ = ['Attention', 'CrossFeatureAttention', 'XFA_VARIANTS', 'DMixer', 'DynamicFilter', 'IDConv', 'OSRA', 'SepConv',
           'bicubic_matrix', 'resize_complex_weight', 'resize_relative_pos_enc']
