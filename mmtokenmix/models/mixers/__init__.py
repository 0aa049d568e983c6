"""Token mixers, one file per paper."""
from .attention import Attention
from .d_mixer import DMixer, IDConv, OSRA, resize_relative_pos_enc
from .dynamic_filter import DynamicFilter, bicubic_matrix, resize_complex_weight
from .sepconv import SepConv

__all__ = ['Attention', 'DMixer', 'DynamicFilter', 'IDConv', 'OSRA', 'SepConv',
           'bicubic_matrix', 'resize_complex_weight', 'resize_relative_pos_enc']
