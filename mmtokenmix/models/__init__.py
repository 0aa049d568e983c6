"""Importing this package registers every mmtokenmix model in the ``mmtokenmix`` scope (and,
when timm imports, the classification models in timm's registry). It never imports mmdet or
mmseg."""

from .backbones import (
    CDFFormer,
    DenseBackbone,
    DFFormer,
    DMFormer,
    MetaFormer,
    MetaFormerSkeleton,
    MixerNet,
    TransXNet,
    TransXNetBlock,
    XFormer,
)
from .classifiers import (
    DMFormerClassifier,
    MetaFormerClassifier,
    TransXNetClassifier,
    XFormerClassifier,
)
from .layers.fast_paths import fast_paths, fast_paths_enabled

__all__ = [
    'CDFFormer',
    'DFFormer',
    'DMFormer',
    'DMFormerClassifier',
    'DenseBackbone',
    'MetaFormer',
    'MetaFormerClassifier',
    'MetaFormerSkeleton',
    'MixerNet',
    'TransXNet',
    'TransXNetBlock',
    'TransXNetClassifier',
    'XFormer',
    'XFormerClassifier',
    'fast_paths',
    'fast_paths_enabled',
]
