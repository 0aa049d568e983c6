from .base import DenseBackbone
from .metaformer import CDFFormer, DFFormer, MetaFormer
from .transxnet import TransXNet, TransXNetBlock
from .xformer import XFormer

__all__ = ['CDFFormer', 'DFFormer', 'DenseBackbone', 'MetaFormer', 'TransXNet', 'TransXNetBlock',
           'XFormer']
