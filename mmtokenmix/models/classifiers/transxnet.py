"""TransXNet's ImageNet classifier."""

from typing import Optional

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from ..backbones.transxnet import TransXNet
from .timm_contract import TimmClassifier


class TransXNetClassifier(TimmClassifier, TransXNet):
    """TransXNet image classifier (Lou et al., TNNLS 2025): the backbone's last stage, then
    GroupNorm(1) -> global average pool -> 1x1 conv, with the official parameter names
    (``classifier.0`` norm, ``classifier.2`` conv). ``num_classes=0`` returns pooled features.

    Args:
        arch / image_size / in_channels / drop_rate / drop_path_rate / with_cp / norm_cfg /
        bn_cfg / act_cfg: as for :class:`TransXNet`.
        num_classes: classifier outputs (0: none, ``forward`` returns the pooled features).
        global_pool: ``'avg'``, or ``''`` with ``num_classes=0`` for the unpooled map (timm).
    """

    def __init__(
        self,
        arch='t',
        num_classes: int = 1000,
        image_size: int = 224,
        in_channels: int = 3,
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        with_cp: bool = False,
        norm_cfg: dict = dict(type='GN', num_groups=1),
        bn_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='GELU'),
        global_pool: str = 'avg',
    ):
        super().__init__(
            arch,
            image_size=image_size,
            in_channels=in_channels,
            out_indices=(3,),
            with_cp=with_cp,
            drop_rate=drop_rate,
            drop_path_rate=drop_path_rate,
            norm_cfg=norm_cfg,
            bn_cfg=bn_cfg,
            act_cfg=act_cfg,
            out_norm_cfg=None,
        )
        self.init_timm_attributes()
        self._head_norm_cfg = norm_cfg
        self.reset_classifier(num_classes, global_pool)

    def reset_classifier(self, num_classes: int, global_pool: Optional[str] = None):
        """Replace the classifier by a freshly initialised one with ``num_classes`` outputs."""
        self._set_global_pool(global_pool, num_classes)
        self.num_classes = num_classes
        # norm, pool, 1x1 conv (an Identity without classes: no state-dict entry)
        fc = nn.Identity()
        if num_classes > 0:
            fc = nn.Conv2d(self.num_features, num_classes, 1)
            nn.init.trunc_normal_(fc.weight, std=0.02)
            nn.init.zeros_(fc.bias)
        self.classifier = nn.Sequential(
            build_norm_layer(self._head_norm_cfg, self.num_features)[1],
            nn.AdaptiveAvgPool2d(1) if self.global_pool else nn.Identity(),
            fc,
        )

    def get_classifier(self) -> nn.Module:
        return self.classifier[2]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.classifier[1](self.classifier[0](x))  # norm, pool
        if self.global_pool == '':
            return x
        if not pre_logits:
            x = self.classifier[2](x)
        return x.flatten(1)
