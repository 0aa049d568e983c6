"""Importing this package registers every mmtokenmix model in the ``mmtokenmix`` scope (and,
when timm imports, the classification models in timm's registry). It never imports mmdet or
mmseg."""
from .backbones import (CDFFormer, DenseBackbone, DFFormer, MetaFormer, TransXNet, TransXNetBlock,
                        XFormer)
from .classifiers import MetaFormerClassifier, TransXNetClassifier, XFormerClassifier

__all__ = ['CDFFormer', 'DFFormer', 'DenseBackbone', 'MetaFormer', 'MetaFormerClassifier',
           'TransXNet', 'TransXNetBlock', 'TransXNetClassifier', 'XFormer',
           'XFormerClassifier']
