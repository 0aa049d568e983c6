"""Token mixers, one file per paper."""
from .d_mixer import DMixer, IDConv, OSRA, resize_relative_pos_enc

__all__ = ['DMixer', 'IDConv', 'OSRA', 'resize_relative_pos_enc']
