"""The ImageNet classifier of the MetaFormer backbones (DFFormer, CDFFormer)."""

from typing import Optional

import torch
import torch.nn as nn

from ..backbones.metaformer import MetaFormer
from .heads import MlpHead
from .timm_contract import TimmClassifier


class MetaFormerClassifier(TimmClassifier, MetaFormer):
    """ImageNet classifier on a :class:`MetaFormer` (DFFormer, CDFFormer, ...; Tatsunami &
    Taki, AAAI 2024): last stage -> global average pool -> LayerNorm (``norm``) ->
    :class:`MlpHead` (``head``), with the official parameter names. ``num_classes=0`` returns
    the normed pooled features.

    Args:
        arch: a settings dict (e.g. ``DFFormer.named_arch('s18')``).
        num_classes: classifier outputs (0: none, ``forward`` returns the pooled features).
        global_pool: ``'avg'``, or ``''`` with ``num_classes=0`` for the unpooled map (timm).
        nominal_size: input size the filter bases are stored for (224 for the released
            weights); other sizes work too (bases resized on the fly).
        in_channels / drop_rate / drop_path_rate / with_cp: as for :class:`MetaFormer`.
        head_dropout: dropout inside the head.
    """

    def __init__(
        self,
        arch: dict,
        num_classes: int = 1000,
        nominal_size: int = 224,
        in_channels: int = 3,
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        head_dropout: float = 0.0,
        with_cp: bool = False,
        global_pool: str = 'avg',
    ):
        super().__init__(
            arch,
            nominal_size=nominal_size,
            in_channels=in_channels,
            out_indices=(3,),
            with_cp=with_cp,
            drop_rate=drop_rate,
            drop_path_rate=drop_path_rate,
            out_norm_cfg=None,
        )
        self.init_timm_attributes()
        self.head_dropout = head_dropout
        self.norm = nn.LayerNorm(self.num_features, eps=1e-6)
        self.reset_classifier(num_classes, global_pool)

    def reset_classifier(self, num_classes: int, global_pool: Optional[str] = None):
        """Replace the head by a freshly initialised one with ``num_classes`` outputs."""
        self._set_global_pool(global_pool, num_classes)
        self.num_classes = num_classes
        if num_classes > 0:
            self.head = MlpHead(self.num_features, num_classes, head_dropout=self.head_dropout)
            for fc in (self.head.fc1, self.head.fc2):
                nn.init.trunc_normal_(fc.weight, std=0.02)
                nn.init.zeros_(fc.bias)
        else:
            self.head = nn.Identity()

    def get_classifier(self) -> nn.Module:
        return self.head

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        if self.global_pool == '':  # the norm at every position (channels last)
            return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        x = self.norm(self.pool(x))
        return x if pre_logits else self.head(x)
