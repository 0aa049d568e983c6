"""XFormer's ImageNet classifier (MobileViT-S's head)."""

from typing import List, Optional

import torch
import torch.nn as nn

from ..backbones.xformer import XFormer
from .heads import LinearHead
from .timm_contract import TimmClassifier


class XFormerClassifier(TimmClassifier, XFormer):
    """XFormer image classifier (reconstruction; Zhao et al., arXiv 2207.07268): stage 4 ->
    1x1 expansion to 640 -> global average pool -> dropout(0.1) -> linear, MobileViT-S's head
    with mmpretrain's names (``conv_1x1_exp``, ``head.fc``). ``num_classes=0`` returns the
    pooled features.

    Args:
        arch / in_channels / attn_cfg / patch_size / drop_rate / drop_path_rate / with_cp: as
            for :class:`XFormer`.
        num_classes: classifier outputs (0: none, ``forward`` returns the pooled features).
        global_pool: ``'avg'``, or ``''`` with ``num_classes=0`` for the unpooled map (timm).
    """

    def __init__(
        self,
        arch='s',
        num_classes: int = 1000,
        in_channels: int = 3,
        attn_cfg: dict = dict(variant='xca', num_heads=4),
        patch_size: int = 2,
        drop_rate: float = 0.1,
        drop_path_rate: float = 0.0,
        with_cp: bool = False,
        global_pool: str = 'avg',
    ):
        super().__init__(
            arch,
            in_channels=in_channels,
            out_indices=(4,),
            attn_cfg=attn_cfg,
            patch_size=patch_size,
            drop_rate=drop_rate,
            drop_path_rate=drop_path_rate,
            with_cp=with_cp,
            last_exp_factor=4,
        )
        self.init_timm_attributes()
        if self.conv_1x1_exp is not None:  # the last map is the expansion's output
            self.feature_info[-1]['module'] = 'conv_1x1_exp'
        self.reset_classifier(num_classes, global_pool)

    def stage_reductions(self) -> List[int]:
        strides, total = [], 2  # the stem halves the input
        for stride in self.arch['strides']:
            total *= stride
            strides.append(total)
        return strides

    def reset_classifier(self, num_classes: int, global_pool: Optional[str] = None):
        self._set_global_pool(global_pool, num_classes)
        self.num_classes = num_classes
        self.head = LinearHead(self.num_features, num_classes) if num_classes else nn.Identity()
        if num_classes:
            nn.init.trunc_normal_(self.head.fc.weight, std=0.02)
            nn.init.zeros_(self.head.fc.bias)

    def get_classifier(self) -> nn.Module:
        return self.head

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.pool(x)
        return x if pre_logits or self.global_pool == '' else self.head(x)
