"""TransXNet backbone (Lou et al., "TransXNet: Learning Both Global and Local Dynamics with a
Dual Dynamic Token Mixer for Visual Recognition", IEEE TNNLS 2025, arXiv 2310.19380).

Numerically the same network as the official ``models/transxnet.py``; parameter names are the
official ones, so its ImageNet and dense checkpoints load without renaming:
``patch_embed``, ``relative_pos_enc.{0..3}``, ``network.{0,2,4,6}`` (stages) and
``network.{1,3,5}`` (downsampling), output norms ``norm{0,2,4,6}`` (named by network index).
"""

import math
from typing import Iterable, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from torch.fx._symbolic_trace import is_fx_tracing

from mmtokenmix.registry import MODELS

from ..layers import ConvPatchEmbed, DepthwiseConv2d, DropPath, LayerScale2d, stochastic_depth_rates
from ..layers.fast_paths import (
    ResizedParameterCache,
    fast_paths_enabled,
    use_fast_path,
    use_inference_fast_path,
)
from ..layers.ms_ffn import MultiScaleFFN
from ..mixers.d_mixer import DMixer, IDConv, resize_relative_pos_enc
from .base import DenseBackbone, StageBlocks


class TransXNetBlock(nn.Module):
    """One TransXNet block: ``x += dw7x7(x)`` (conditional position encoding), then
    ``x += DropPath(LayerScale(DMixer(GN(x), rpe)))`` and
    ``x += DropPath(LayerScale(MS-FFN(GN(x))))``.

    Args:
        channels: block width.
        kernel_size / num_groups: IDConv settings.
        num_heads / sr_ratio: OSRA settings.
        mlp_ratio: MS-FFN expansion.
        norm_cfg: the two pre-norms (GroupNorm with one group upstream).
        bn_cfg / act_cfg: BatchNorm and activation inside the mixer and the FFN.
        drop: FFN dropout.
        drop_path: stochastic-depth rate of both residual branches.
        layer_scale_init_value: initial layer-scale weight.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 7,
        num_groups: int = 2,
        num_heads: int = 1,
        sr_ratio: int = 1,
        mlp_ratio: float = 4.0,
        norm_cfg: dict = dict(type='GN', num_groups=1),
        bn_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='GELU'),
        drop: float = 0.0,
        drop_path: float = 0.0,
        layer_scale_init_value: float = 1e-5,
    ):
        super().__init__()
        self.pos_embed = DepthwiseConv2d(channels, 7, padding=3)
        self.norm1 = build_norm_layer(norm_cfg, channels)[1]
        self.token_mixer = DMixer(
            channels, kernel_size, num_groups, num_heads, sr_ratio, bn_cfg=bn_cfg, act_cfg=act_cfg
        )
        self.norm2 = build_norm_layer(norm_cfg, channels)[1]
        self.mlp = MultiScaleFFN(
            channels, int(channels * mlp_ratio), bn_cfg=bn_cfg, act_cfg=act_cfg, drop=drop
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.layer_scale_1 = LayerScale2d(channels, layer_scale_init_value)
        self.layer_scale_2 = LayerScale2d(channels, layer_scale_init_value)

    def forward(self, x: torch.Tensor, rpe: Optional[torch.Tensor] = None) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if use_inference_fast_path(self):  # the same sums, each into the new branch tensor
                x = self.pos_embed(x).add_(x)
                x = self.layer_scale_1.forward_(self.token_mixer(self.norm1(x), rpe)).add_(x)
                return self.layer_scale_2.forward_(self.mlp(self.norm2(x))).add_(x)
        x = x + self.pos_embed(x)
        x = x + self.drop_path(self.layer_scale_1(self.token_mixer(self.norm1(x), rpe)))
        return x + self.drop_path(self.layer_scale_2(self.mlp(self.norm2(x))))


class TransXNetStage(StageBlocks):
    """The blocks of one TransXNet stage; each gets the stage's relative position encoding."""

    def __init__(self, blocks: Iterable[nn.Module], grad_checkpointing: bool = False):
        super().__init__(blocks, grad_checkpointing)
        self.takes_position_encoding = True

    def forward(self, x: torch.Tensor, rpe: Optional[torch.Tensor] = None) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if self.grad_checkpointing and x.requires_grad:
                for block in self:
                    x = cp.checkpoint(block, x, rpe, use_reentrant=False)
                return x
        for block in self:
            x = block(x, rpe)
        return x


@MODELS.register_module()
class TransXNet(DenseBackbone):
    """TransXNet for dense prediction: a tuple of NCHW maps at strides 4/8/16/32.

    Args:
        arch: ``'t'``/``'tiny'``, ``'s'``/``'small'``, ``'b'``/``'base'`` (any case), or a dict
            of per-stage lists with the keys of :attr:`arch_settings` entries
            (``kernel_sizes`` and ``mlp_ratios`` optional: 7 and 4).
        image_size: input size the relative position encodings are stored for (224 for the
            released ImageNet weights, 384 for the B-384 ones); any input size works, the
            encodings are resized at run time.
        in_channels / out_indices / frozen_stages / norm_eval / with_cp / init_cfg /
            pretrained: see :class:`DenseBackbone`.
        drop_rate: dropout in the MS-FFN.
        drop_path_rate: stochastic depth of the last block (linear from 0 over all blocks).
        norm_cfg: block pre-norms (GroupNorm(1) upstream).
        bn_cfg: BatchNorms of the stem, downsampling, mixer and FFN (e.g. SyncBN).
        act_cfg: activation.
        out_norm_cfg: output norm per returned stage (defaults to ``norm_cfg``; None: none).
        layer_scale_init_value: initial layer scale (1e-5 upstream; a larger value such as 0.1
            trains much faster from scratch). Pretrained weights replace it anyway.
    """

    arch_settings = {
        't': dict(
            depths=[3, 3, 9, 3],
            dims=[48, 96, 224, 448],
            num_groups=[2, 2, 2, 2],
            sr_ratios=[8, 4, 2, 1],
            num_heads=[1, 2, 4, 8],
            mlp_ratios=[4, 4, 4, 4],
        ),
        's': dict(
            depths=[4, 4, 12, 4],
            dims=[64, 128, 320, 512],
            num_groups=[2, 2, 3, 4],
            sr_ratios=[8, 4, 2, 1],
            num_heads=[1, 2, 5, 8],
            mlp_ratios=[6, 6, 4, 4],
        ),
        'b': dict(
            depths=[4, 4, 21, 4],
            dims=[76, 152, 336, 672],
            num_groups=[2, 2, 4, 4],
            sr_ratios=[8, 4, 2, 1],
            num_heads=[2, 4, 8, 16],
            mlp_ratios=[8, 8, 4, 4],
        ),
    }
    arch_aliases = {'tiny': 't', 'small': 's', 'base': 'b'}
    arch_keys = ('depths', 'dims', 'num_groups', 'sr_ratios', 'num_heads')
    arch_defaults = dict(kernel_sizes=[7, 7, 7, 7], mlp_ratios=[4, 4, 4, 4])

    def __init__(
        self,
        arch: Union[str, dict] = 't',
        image_size: int = 224,
        in_channels: int = 3,
        out_indices: Sequence[int] = (0, 1, 2, 3),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        with_cp: Union[bool, Sequence[bool]] = False,
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        norm_cfg: dict = dict(type='GN', num_groups=1),
        bn_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='GELU'),
        out_norm_cfg: Union[dict, str] = 'same',
        layer_scale_init_value: float = 1e-5,
        init_cfg: dict = None,
        pretrained: Optional[str] = None,
    ):
        super().__init__(
            in_channels, out_indices, frozen_stages, norm_eval, with_cp, init_cfg, pretrained
        )
        self.arch = arch = self.parse_arch(arch)
        self.layer_scale_init_value = layer_scale_init_value
        self.image_size = image_size
        dims = self.out_channels = list(arch['dims'])
        self.out_norm_cfg = norm_cfg if out_norm_cfg == 'same' else out_norm_cfg

        self.patch_embed = ConvPatchEmbed(
            in_channels, dims[0], kernel_size=7, stride=4, padding=3, norm_cfg=bn_cfg
        )

        # one relative position encoding per stage, shared by its blocks, sized for image_size
        h = w = math.ceil(image_size / 4)
        rpes = []
        for i in range(self.num_stages):
            r = arch['sr_ratios'][i]
            n_kv = math.ceil(h / r) * math.ceil(w / r)
            rpes.append(nn.Parameter(torch.zeros(1, arch['num_heads'][i], h * w, n_kv)))
            h, w = math.ceil(h / 2), math.ceil(w / 2)
        self.relative_pos_enc = nn.ParameterList(rpes)
        self._rpe_caches = [ResizedParameterCache() for _ in rpes]

        # upstream's layout and names: network = [stage 0, down 1, stage 1, down 2, ...]
        dpr = stochastic_depth_rates(arch['depths'], drop_path_rate)
        network = []
        for i in range(self.num_stages):
            if i > 0:
                network.append(
                    ConvPatchEmbed(
                        dims[i - 1], dims[i], kernel_size=3, stride=2, padding=1, norm_cfg=bn_cfg
                    )
                )
            network.append(
                TransXNetStage(
                    [
                        TransXNetBlock(
                            dims[i],
                            arch['kernel_sizes'][i],
                            arch['num_groups'][i],
                            arch['num_heads'][i],
                            arch['sr_ratios'][i],
                            arch['mlp_ratios'][i],
                            norm_cfg=norm_cfg,
                            bn_cfg=bn_cfg,
                            act_cfg=act_cfg,
                            drop=drop_rate,
                            drop_path=rate,
                            layer_scale_init_value=layer_scale_init_value,
                        )
                        for rate in dpr[i]
                    ],
                    self.with_cp[i],
                )
            )
        self.network = nn.ModuleList(network)

    @classmethod
    def check_arch(cls, arch: dict):
        for i, (c, heads, groups) in enumerate(
            zip(arch['dims'], arch['num_heads'], arch['num_groups'])
        ):
            if c % 2 or (c // 2) % heads:
                raise ValueError(
                    f'stage {i}: width {c} must be even and its half divisible by num_heads {heads}'
                )
            if groups < 2:
                raise ValueError(f'stage {i}: num_groups must be > 1, got {groups}')

    def stage_blocks(self, stage: int) -> TransXNetStage:
        return self.network[2 * stage]

    def downsampling(self, stage: int) -> nn.Module:
        """The layer before ``stage`` (stages 1-3)."""
        return self.network[2 * stage - 1]

    # ---- DenseBackbone hooks ------------------------------------------------------------
    def out_norm_name(self, stage: int) -> str:
        return f'norm{2 * stage}'  # upstream names them by network index

    def stem_parts(self) -> List[nn.Module]:
        return [self.patch_embed]

    def stage_parts(self, stage: int):
        parts = [self.stage_blocks(stage), self.relative_pos_enc[stage]]
        if stage > 0:
            parts.append(self.downsampling(stage))
        return parts

    def reset_parameters(self):
        """Upstream init: trunc-normal(0.02) conv weights with zero bias, unit norms, IDConv
        kernels trunc-normal(0.02), layer scale at its init value, zero position encodings."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, (nn.GroupNorm, nn.modules.batchnorm._BatchNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, LayerScale2d):
                nn.init.constant_(m.weight, self.layer_scale_init_value)
                nn.init.zeros_(m.bias)
            elif isinstance(m, IDConv):
                nn.init.trunc_normal_(m.weight, std=0.02)
                nn.init.trunc_normal_(m.bias, std=0.02)
        for rpe in self.relative_pos_enc:
            nn.init.zeros_(rpe)

    # ---- forward ------------------------------------------------------------------------
    def stage_position_encoding(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        """The stage's relative position encoding for the input map ``x`` of its blocks."""
        if torch.jit.is_scripting():  # (a module list indexed by a variable does not compile)
            rpe = self.relative_pos_enc[0]
            for i, encoding in enumerate(self.relative_pos_enc):
                if i == stage:
                    rpe = encoding
            return rpe  # each block resizes it, as upstream
        return self._resized_position_encoding(stage, x)

    def _resized_position_encoding(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        rpe = self.relative_pos_enc[stage]
        if not fast_paths_enabled() or is_fx_tracing():
            return rpe  # each block resizes it, as upstream
        # upstream resizes the stage's encoding in every block; once per forward gives the same
        # tensor, and in inference it is kept for the next input of the same size
        H, W = x.shape[2:]
        kv_h, kv_w = self.stage_blocks(stage)[0].token_mixer.global_unit.kv_size(H, W)
        size = (H * W, kv_h * kv_w)
        # separable in training, for its faster backward (inference keeps F.interpolate's
        # bits; torch.jit.trace records F.interpolate with the sizes as inputs)
        separable = torch.is_grad_enabled() and use_fast_path(self)
        return self._rpe_caches[stage].get(
            self, rpe, size, lambda: resize_relative_pos_enc(rpe, size, separable=separable)
        )

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.patch_embed(x)

    def forward_stage(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        # network = [stage 0, down 1, stage 1, ...]; TorchScript resolves hasattr when
        # compiling (it does not resolve isinstance), so each layer is called as what it is
        for i, layer in enumerate(self.network):
            if hasattr(layer, 'takes_position_encoding'):  # a TransXNetStage
                if i == 2 * stage:
                    x = layer(x, self.stage_position_encoding(stage, x))
            elif i == 2 * stage - 1:  # the downsampling before ``stage``
                x = layer(x)
        return x
