"""Importing this package registers every mmtokenmix model in the ``mmtokenmix`` scope (and,
when timm imports, the classification models in timm's registry). It never imports mmdet or
mmseg."""
from .backbones import DenseBackbone, TransXNet, TransXNetBlock
from .classifiers import TransXNetClassifier

__all__ = ['DenseBackbone', 'TransXNet', 'TransXNetBlock', 'TransXNetClassifier']
