"""DMFormer's ImageNet classifier (PoolFormer's head)."""

from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from ..backbones.dmformer import DMFormer
from .timm_contract import TimmClassifier


class DMFormerClassifier(TimmClassifier, DMFormer):
    """DMFormer image classifier (reconstruction; Wei et al., ICASSP 2023): last stage ->
    GroupNorm(1) (``norm``) -> global average pool -> linear (``head``), PoolFormer's head.
    ``num_classes=0`` returns the pooled features.

    Args:
        arch: ``'s'``, ``'m'``, ``'b'`` or a dict (see :class:`DMFormer`).
        num_classes: classifier outputs (0: none, ``forward`` returns the pooled features).
        global_pool: ``'avg'``, or ``''`` with ``num_classes=0`` for the unpooled map (timm).
        **kwargs: any other :class:`DMFormer` argument (DMA settings, norms, drop rates,
            ``with_cp``) except the dense-output ones.
    """

    def __init__(self, arch='s', num_classes: int = 1000, global_pool: str = 'avg', **kwargs):
        super().__init__(arch, out_indices=(3,), out_norm_cfg=None, **kwargs)
        self.init_timm_attributes()
        self.norm = build_norm_layer(
            kwargs.get('norm_cfg', dict(type='GN', num_groups=1)), self.num_features
        )[1]
        self.reset_classifier(num_classes, global_pool)

    def reset_classifier(self, num_classes: int, global_pool: Optional[str] = None):
        self._set_global_pool(global_pool, num_classes)
        self.num_classes = num_classes
        self.head = nn.Linear(self.num_features, num_classes) if num_classes else nn.Identity()
        if num_classes:
            nn.init.trunc_normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)

    def get_classifier(self) -> nn.Module:
        return self.head

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.pool(self.norm(x))
        return x if pre_logits or self.global_pool == '' else self.head(x)
