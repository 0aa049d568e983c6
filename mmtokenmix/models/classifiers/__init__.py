"""ImageNet classifiers built from the same modules as the dense backbones: one file per
family, the heads, timm's model contract (``timm_contract.py``) and the timm entry points
(``timm_models.py``: ``timm.create_model('transxnet_t')`` after ``import mmtokenmix.models``)."""

from .dmformer import DMFormerClassifier
from .heads import LinearHead, MlpHead
from .metaformer import MetaFormerClassifier
from .timm_contract import TimmClassifier, take_indices
from .timm_models import TIMM_MODEL_NAMES
from .transxnet import TransXNetClassifier
from .xformer import XFormerClassifier

__all__ = [
    'DMFormerClassifier',
    'LinearHead',
    'MetaFormerClassifier',
    'MlpHead',
    'TIMM_MODEL_NAMES',
    'TimmClassifier',
    'TransXNetClassifier',
    'XFormerClassifier',
    'take_indices',
]
