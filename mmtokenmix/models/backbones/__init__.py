from .base import DenseBackbone
from .dmformer import DMFormer
from .metaformer import CDFFormer, DFFormer, MetaFormer
from .mixernet import MixerNet
from .skeleton import MetaFormerSkeleton
from .transxnet import TransXNet, TransXNetBlock
from .xformer import XFormer

__all__ = [
    'CDFFormer',
    'DFFormer',
    'DMFormer',
    'DenseBackbone',
    'MetaFormer',
    'MetaFormerSkeleton',
    'MixerNet',
    'TransXNet',
    'TransXNetBlock',
    'XFormer',
]
