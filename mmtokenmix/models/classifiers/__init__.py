"""ImageNet classifiers built from the same modules as the dense backbones: one file per
family, the heads, timm's model contract (``timm_contract.py``) and the timm entry points
(``timm_models.py``: ``timm.create_model('transxnet_t')`` after ``import mmtokenmix.models``),
and the heads for mmpretrain's ``ImageClassifier`` (``mmpretrain_heads.py``)."""

from mmtokenmix.registry import MODELS

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


MMPRETRAIN_HEADS = ('NormPoolLinearClsHead', 'MetaFormerClsHead')


def _mmpretrain_head_builder(name: str):
    """A registry entry that imports ``mmpretrain_heads`` (and so mmpretrain, 2-3 s) only when
    a config builds the head ``name``; ``import mmtokenmix.models`` stays light."""

    def build(**kwargs):
        from . import mmpretrain_heads

        return getattr(mmpretrain_heads, name)(**kwargs)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f'Builds :class:`mmtokenmix.models.classifiers.mmpretrain_heads.{name}`.'
    return build


for _name in MMPRETRAIN_HEADS:
    MODELS.register_module(name=_name, module=_mmpretrain_head_builder(_name))
