"""XFormer backbone (Zhao et al., "Lightweight Vision Transformer with Cross Feature Attention",
arXiv 2207.07268). A reconstruction: no official code or weights exist and the paper body was
not available, so the layout is our reconstruction (docs/xformer.md): the MobileViT-S
skeleton (MobileNetV2 inverted residuals + MobileViT blocks) with Cross Feature Attention in
place of self-attention. Parameter names follow mmpretrain's MobileViT (``stem``, ``layers.{i}``,
``local_rep``, ``global_rep``, ``conv_proj``, ``conv_fusion``, ``conv_1x1_exp``), so MobileViT-S
ImageNet weights load as the documented substitute initialisation.
"""

import math
from typing import List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log

from mmtokenmix.checkpoints.mobilevit import format_report, load_matching_weights
from mmtokenmix.registry import MODELS

from ..layers.conv_norm_act import ConvNormAct
from ..layers.drop_path import DropPath, stochastic_depth_rates
from ..mixers.xfa import CrossFeatureAttention
from .base import DenseBackbone, StageBlocks


class InvertedResidual(nn.Module):
    """MobileNetV2's inverted residual: 1x1 expand (skipped for ratio 1) -> 3x3 depthwise with
    the stride -> 1x1 linear projection, each conv + norm (+ activation but the last); identity
    shortcut when the shape is kept. Keys ``conv.{0,1,2}.{conv,bn}`` as in mmpretrain."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        expand_ratio: float,
        norm_cfg: dict,
        act_cfg: dict,
    ):
        super().__init__()
        hidden = int(round(in_channels * expand_ratio))
        self.use_shortcut = stride == 1 and in_channels == out_channels
        layers = []
        if expand_ratio != 1:
            layers.append(ConvNormAct(in_channels, hidden, 1, norm_cfg=norm_cfg, act_cfg=act_cfg))
        layers += [
            ConvNormAct(
                hidden,
                hidden,
                3,
                stride=stride,
                padding=1,
                groups=hidden,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
            ),
            ConvNormAct(hidden, out_channels, 1, norm_cfg=norm_cfg, act_cfg=None),
        ]
        self.conv = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv(x) if self.use_shortcut else self.conv(x)


class TokenFFN(nn.Module):
    """MobileViT's FFN on tokens: Linear -> SiLU -> Linear, dropout only at the end; keys
    ``layers.0.0`` / ``layers.1`` as mmcv's ``FFN``. Not mmcv's ``FFN`` itself: its forward is
    wrapped by ``deprecated_api_warning``, whose argument inspection breaks torch.compile's
    graph in every layer (the XFormer blocks then compile one by one, with dynamic shapes that
    inductor in torch 2.5 cannot lower)."""

    def __init__(self, channels: int, hidden: int, drop: float = 0.0):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Sequential(nn.Linear(channels, hidden), nn.SiLU(), nn.Dropout(0.0)),
            nn.Linear(hidden, channels),
            nn.Dropout(drop),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class XFALayer(nn.Module):
    """Pre-norm transformer layer with XFA: ``x + XFA(LN(x))``, then ``x + FFN(LN(x))``."""

    def __init__(
        self,
        channels: int,
        ffn_channels: int,
        attn_cfg: dict,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.0,
    ):
        super().__init__()
        self.ln1 = nn.LayerNorm(channels)
        self.attn = CrossFeatureAttention(channels, attn_drop=attn_drop, proj_drop=drop, **attn_cfg)
        self.ln2 = nn.LayerNorm(channels)
        self.ffn = TokenFFN(channels, ffn_channels, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.drop_path(self.attn(self.ln1(x)))
        return x + self.drop_path(self.ffn(self.ln2(x)))


class XFormerBlock(nn.Module):
    """MobileViT block with XFA: 3x3 conv + 1x1 to ``transformer_dim`` (local), unfold into
    ``patch_size`` x ``patch_size`` pixel groups, XFA layers + LN within each group (global),
    fold, 1x1 back to C, and a 3x3 fusion of the input with the result.

    A map whose side is not a multiple of ``patch_size`` is resized bilinearly up to the next
    multiple for the global part and back afterwards (as MobileViT does), so any size works.
    """

    def __init__(
        self,
        channels: int,
        transformer_dim: int,
        ffn_dim: int,
        num_layers: int,
        attn_cfg: dict,
        patch_size: int = 2,
        norm_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='SiLU'),
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_paths: Sequence[float] = (),
    ):
        super().__init__()
        self.patch_size = patch_size
        self.local_rep = nn.Sequential(
            ConvNormAct(channels, channels, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg),
            ConvNormAct(channels, transformer_dim, 1, bias=False, norm_cfg=None, act_cfg=None),
        )
        drop_paths = list(drop_paths) or [0.0] * num_layers
        self.global_rep = nn.Sequential(
            *[
                XFALayer(transformer_dim, ffn_dim, attn_cfg, drop, attn_drop, rate)
                for rate in drop_paths
            ],
            nn.LayerNorm(transformer_dim),
        )
        self.conv_proj = ConvNormAct(
            transformer_dim, channels, 1, norm_cfg=norm_cfg, act_cfg=act_cfg
        )
        self.conv_fusion = ConvNormAct(
            2 * channels, channels, 3, padding=1, norm_cfg=norm_cfg, act_cfg=act_cfg
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.local_rep(x)
        B, D, H, W = y.shape
        p = self.patch_size
        h, w = math.ceil(H / p) * p, math.ceil(W / p) * p
        if (h, w) != (H, W):
            y = F.interpolate(y, size=(h, w), mode='bilinear', align_corners=False)
        nh, nw = h // p, w // p
        # (B, D, nh, p, nw, p) -> (B * p * p, nh * nw, D): one token sequence per pixel position
        tokens = (
            y.reshape(B, D, nh, p, nw, p).permute(0, 3, 5, 2, 4, 1).reshape(B * p * p, nh * nw, D)
        )
        tokens = self.global_rep(tokens)
        y = tokens.reshape(B, p, p, nh, nw, D).permute(0, 5, 3, 1, 4, 2).reshape(B, D, h, w)
        if (h, w) != (H, W):
            y = F.interpolate(y, size=(H, W), mode='bilinear', align_corners=False)
        return self.conv_fusion(torch.cat([x, self.conv_proj(y)], dim=1))


@MODELS.register_module()
class XFormer(DenseBackbone):
    """XFormer (reconstruction, see the module docstring): NCHW maps of stages 0-4 at strides
    2/4/8/16/32 with 32/64/96/128/160 channels (arch ``'s'``).

    Args:
        arch: ``'s'`` (the paper's budget, see :attr:`arch_settings`), ``'mobilevit_s'``
            (MobileViT-S widths: all its weights fit) or a dict of per-stage lists (5 values
            each): ``kinds`` (``'mv2'``: ``depths`` inverted residuals; ``'xformer'``: an
            inverted residual, then an XFormer block of ``depths`` XFA layers), ``dims``,
            ``strides``, ``expand_ratios``, and ``transformer_dims`` / ``ffn_dims`` (None for
            ``'mv2'`` stages).
        in_channels / stem_channels: input channels and width of the 3x3/2 stem.
        out_indices: stages to return (0-4; default strides 4-32).
        frozen_stages / norm_eval / with_cp / init_cfg / pretrained: see
            :class:`DenseBackbone`.
        attn_cfg: XFA settings, ``dict(variant='xca', num_heads=4)`` by default (see
            :class:`~mmtokenmix.models.mixers.xfa.CrossFeatureAttention`).
        patch_size: side of the pixel groups of the unfold (2 as MobileViT).
        drop_rate: dropout after attention and FFN (MobileViT-S: 0.1).
        attn_drop_rate: dropout on the attention map.
        drop_path_rate: stochastic depth over the transformer layers (linear from 0).
        last_exp_factor: > 0 adds MobileViT's 1x1 expansion after stage 4 (classification:
            4, giving 640 channels); 0 (dense default) returns stage 4 as is.
        norm_cfg / act_cfg: norm and activation of the conv parts (BN, SiLU).
        out_norm_cfg: output norm per returned stage (None, the default: none, as MobileViT).
    """

    num_stages = 5
    arch_settings = {
        # the paper's budget (5.5M classifier; YOLOv3-320 6.3M / 3.8 GFLOPs with the mmcv 1.x
        # counter): MobileViT-S with the stride-8 FFNs 1.5x instead of 2x wide (216, not 288)
        's': dict(
            kinds=['mv2', 'mv2', 'xformer', 'xformer', 'xformer'],
            dims=[32, 64, 96, 128, 160],
            strides=[1, 2, 2, 2, 2],
            depths=[1, 3, 2, 4, 3],
            expand_ratios=[4, 4, 4, 4, 4],
            transformer_dims=[None, None, 144, 192, 240],
            ffn_dims=[None, None, 216, 384, 480],
        ),
        # exactly the MobileViT-S skeleton (every MobileViT-S tensor has a place)
        'mobilevit_s': dict(
            kinds=['mv2', 'mv2', 'xformer', 'xformer', 'xformer'],
            dims=[32, 64, 96, 128, 160],
            strides=[1, 2, 2, 2, 2],
            depths=[1, 3, 2, 4, 3],
            expand_ratios=[4, 4, 4, 4, 4],
            transformer_dims=[None, None, 144, 192, 240],
            ffn_dims=[None, None, 288, 384, 480],
        ),
    }
    arch_aliases = {'small': 's'}
    arch_keys = (
        'kinds',
        'depths',
        'dims',
        'strides',
        'expand_ratios',
        'transformer_dims',
        'ffn_dims',
    )
    # an ImageNet classifier's checkpoint (timm or mmpretrain) has these beyond the dense
    # backbone: MobileViT's 1x1 expansion (``last_exp_factor``) belongs to its head
    classifier_prefixes = ('head.', 'conv_1x1_exp.')

    def __init__(
        self,
        arch: Union[str, dict] = 's',
        in_channels: int = 3,
        stem_channels: int = 16,
        out_indices: Sequence[int] = (1, 2, 3, 4),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        with_cp: Union[bool, Sequence[bool]] = False,
        attn_cfg: dict = dict(variant='xca', num_heads=4),
        patch_size: int = 2,
        drop_rate: float = 0.1,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        last_exp_factor: int = 0,
        norm_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='SiLU'),
        out_norm_cfg: Optional[dict] = None,
        init_cfg: dict = None,
        pretrained: Optional[str] = None,
    ):
        super().__init__(
            in_channels, out_indices, frozen_stages, norm_eval, with_cp, init_cfg, pretrained
        )
        self.arch = arch = self.parse_arch(arch)
        self.out_norm_cfg = out_norm_cfg
        self.stem = ConvNormAct(
            in_channels,
            stem_channels,
            kernel_size=3,
            stride=2,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
        )
        num_layers = sum(d for k, d in zip(arch['kinds'], arch['depths']) if k == 'xformer')
        rates = iter(stochastic_depth_rates([max(num_layers, 1)], drop_path_rate)[0])
        layers, channels = [], stem_channels
        for i, kind in enumerate(arch['kinds']):
            out_channels, stride, depth, expand = (
                arch['dims'][i],
                arch['strides'][i],
                arch['depths'][i],
                arch['expand_ratios'][i],
            )
            if kind == 'mv2':  # ``depth`` inverted residuals
                blocks = [
                    InvertedResidual(
                        channels if j == 0 else out_channels,
                        out_channels,
                        stride if j == 0 else 1,
                        expand,
                        norm_cfg,
                        act_cfg,
                    )
                    for j in range(depth)
                ]
            else:  # an inverted residual, then an XFormer block of ``depth`` XFA layers
                blocks = [
                    InvertedResidual(channels, out_channels, stride, expand, norm_cfg, act_cfg),
                    XFormerBlock(
                        out_channels,
                        arch['transformer_dims'][i],
                        arch['ffn_dims'][i],
                        depth,
                        attn_cfg,
                        patch_size,
                        norm_cfg,
                        act_cfg,
                        drop_rate,
                        attn_drop_rate,
                        [next(rates) for _ in range(depth)],
                    ),
                ]
            layers.append(StageBlocks(blocks, self.with_cp[i]))
            channels = out_channels
        self.layers = nn.Sequential(*layers)
        self.out_channels = list(arch['dims'])
        self.conv_1x1_exp = None
        if last_exp_factor:
            self.conv_1x1_exp = ConvNormAct(
                channels,
                last_exp_factor * channels,
                kernel_size=1,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
            )
            self.out_channels[-1] = last_exp_factor * channels

    @classmethod
    def check_arch(cls, arch: dict):
        for i, kind in enumerate(arch['kinds']):
            if kind not in ('mv2', 'xformer'):
                raise ValueError(f"stage {i}: kind must be 'mv2' or 'xformer', got {kind!r}")
            if kind == 'xformer' and not all(
                isinstance(arch[k][i], int) and arch[k][i] >= 1
                for k in ('transformer_dims', 'ffn_dims')
            ):
                raise ValueError(
                    f'stage {i}: an xformer stage needs positive int '
                    f'transformer_dims and ffn_dims, got '
                    f'{arch["transformer_dims"][i]!r}, {arch["ffn_dims"][i]!r}'
                )

    # ---- DenseBackbone hooks ------------------------------------------------------------
    def stem_parts(self) -> List[nn.Module]:
        return [self.stem]

    def stage_parts(self, stage: int) -> List[nn.Module]:
        parts = [self.layers[stage]]
        if stage == self.num_stages - 1 and self.conv_1x1_exp is not None:
            parts.append(self.conv_1x1_exp)
        return parts

    def reset_parameters(self):
        """Init of MobileViT (cvnets): Kaiming-normal convs, trunc-normal(0.02) linears, zero
        biases, unit norms, unit XFA temperatures."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode='fan_out')
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.LayerNorm, nn.modules.batchnorm._BatchNorm, nn.GroupNorm)):
                if m.weight is not None:
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
            elif isinstance(m, CrossFeatureAttention) and m.temperature is not None:
                nn.init.ones_(m.temperature)

    def load_pretrained_state_dict(self, state_dict, source: str):
        """An XFormer checkpoint (it has XFA temperatures) loads strictly, like every
        backbone; a MobileViT checkpoint (mmpretrain layout, ``prefix='backbone.'`` for its
        whole-classifier files) loads wherever names and shapes agree, with a report."""
        if any(k.endswith('attn.temperature') for k in state_dict):
            return super().load_pretrained_state_dict(state_dict, source)
        report = load_matching_weights(self, state_dict, source=f'checkpoint {source!r}')
        print_log(
            f'XFormer: MobileViT weights from {source} as substitute '
            f'initialisation: {format_report(report)}',
            logger='current',
        )
        self.pretrained_report = report

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.stem(x)

    def forward_stage(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        for i, layer in enumerate(self.layers):
            if i == stage:
                x = layer(x)
        if stage == self.num_stages - 1 and self.conv_1x1_exp is not None:
            x = self.conv_1x1_exp(x)
        return x
