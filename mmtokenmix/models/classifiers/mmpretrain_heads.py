"""The papers' classification heads as mmpretrain heads, for ``ImageClassifier`` configs whose
backbone is one of ours (``type='mmtokenmix.TransXNet'`` ...): ImageNet pretraining through
mmpretrain's own tools. ``mmtokenmix.models.classifiers`` registers them in the ``mmtokenmix``
scope and imports this module (and mmpretrain) only when a config builds one of the heads.

Each head takes the backbone's last map (build the classifier without a neck: TransXNet and
DMFormer normalise before pooling, which a pooling neck would reverse). The layers are the
timm classifiers' (``mmtokenmix.models.classifiers``), under ``head.``; see
``mmtokenmix.converters.mmpretrain`` for the key map between the two.
"""

from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmpretrain.models.heads import ClsHead

from .heads import MlpHead

# timm's classifier init: truncated normal (std 0.02) linear weights, zero biases
TIMM_LINEAR_INIT = dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.0)


class LastMapClsHead(ClsHead):
    """What both heads share: ``num_classes`` (positive) and ``in_channels``, the input being
    the backbone's last (B, C, H, W) map, and timm's classifier init."""

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        init_cfg: Optional[dict] = TIMM_LINEAR_INIT,
        **kwargs,
    ):
        super().__init__(init_cfg=init_cfg, **kwargs)
        if num_classes <= 0:
            raise ValueError(f'num_classes must be positive, got {num_classes}')
        self.num_classes, self.in_channels = num_classes, in_channels

    def last_map(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        x = feats[-1]
        if x.dim() != 4:
            raise ValueError(
                f'{type(self).__name__} takes the backbone\'s last (B, C, H, W) map, got shape '
                f'{tuple(x.shape)}: build the ImageClassifier without a neck (the head pools)'
            )
        return x


class NormPoolLinearClsHead(LastMapClsHead):
    """norm (optional) -> global average pool -> dropout -> linear: TransXNet's head (GroupNorm
    with one group; Lou et al., TNNLS 2025; its 1x1 conv is this linear layer), DMFormer's
    (PoolFormer's: GroupNorm(1); Wei et al., ICASSP 2023) and XFormer's (MobileViT-S's: no
    norm, dropout 0.1; Zhao et al., arXiv 2207.07268).

    Args:
        num_classes: classes.
        in_channels: channels of the backbone's last map.
        norm_cfg: mmcv norm config applied to the map before pooling (None: none).
        dropout: dropout before the linear layer.
        **kwargs: ``loss``, ``topk``, ``cal_acc``, ``init_cfg`` of mmpretrain's ``ClsHead``
            (``init_cfg`` default: timm's, truncated normal std 0.02, zero biases).
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        norm_cfg: Optional[dict] = dict(type='GN', num_groups=1),
        dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, **kwargs)
        self.norm = build_norm_layer(norm_cfg, in_channels)[1] if norm_cfg else None
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        x = self.last_map(feats)
        if self.norm is not None:
            x = self.norm(x)
        return x.mean((2, 3))

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.fc(self.dropout(self.pre_logits(feats)))


class MetaFormerClsHead(LastMapClsHead):
    """MetaFormer's head (DFFormer, CDFFormer; Tatsunami & Taki, AAAI 2024): global average
    pool -> LayerNorm (``norm``) -> :class:`MlpHead` (``mlp``: C -> 4C -> SquaredReLU ->
    LayerNorm -> dropout -> classes).

    Args:
        num_classes: classes.
        in_channels: channels of the backbone's last map.
        mlp_ratio: hidden width of the MLP over ``in_channels``.
        head_dropout: dropout inside the MLP.
        **kwargs: ``loss``, ``topk``, ``cal_acc``, ``init_cfg`` of mmpretrain's ``ClsHead``
            (``init_cfg`` default: timm's, truncated normal std 0.02, zero biases).
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        mlp_ratio: float = 4.0,
        head_dropout: float = 0.0,
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, **kwargs)
        self.norm = nn.LayerNorm(in_channels, eps=1e-6)
        self.mlp = MlpHead(in_channels, num_classes, mlp_ratio, head_dropout)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.norm(self.last_map(feats).mean((2, 3)))

    def forward(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        return self.mlp(self.pre_logits(feats))
