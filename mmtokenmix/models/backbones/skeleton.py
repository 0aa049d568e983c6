"""The MetaFormer hierarchy ("MetaFormer Is Actually What You Need for Vision", Yu et al., CVPR
2022) written once for the backbones built on it (DFFormer/CDFFormer, DMFormer):
``downsample_layers[i]`` (the stem for ``i = 0``) followed by ``stages[i]``, the blocks of the
stage, for four stages, and the MetaFormer initialisation. A subclass builds its stem,
downsampling and blocks (its token mixer, norm and layout) and hands them to
:meth:`MetaFormerSkeleton.build_hierarchy`; the stage loop is :class:`DenseBackbone`'s.
"""

from typing import Callable, List, Sequence

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..layers import LayerNormWithoutBias, Scale, StarReLU, stochastic_depth_rates
from .base import DenseBackbone, StageBlocks


class MetaFormerSkeleton(DenseBackbone):
    """Base of the MetaFormer dense backbones; see the module docstring.

    Subclasses set :attr:`channels_last` (the layout between stages) and may extend
    :meth:`check_arch` and :meth:`init_module`.
    """

    def build_hierarchy(
        self,
        downsample_layers: Sequence[nn.Module],
        make_block: Callable[[int, float], nn.Module],
        depths: Sequence[int],
        drop_path_rate: float,
    ):
        """Register ``downsample_layers`` (stem first) and ``stages[i]`` = ``depths[i]`` blocks
        ``make_block(i, drop_path)``, with stochastic depth rising linearly to
        ``drop_path_rate`` over all blocks."""
        self.downsample_layers = nn.ModuleList(downsample_layers)
        dpr = stochastic_depth_rates(depths, drop_path_rate)
        self.stages = nn.ModuleList(
            StageBlocks([make_block(i, rate) for rate in dpr[i]], self.with_cp[i])
            for i in range(self.num_stages)
        )

    # ---- DenseBackbone hooks ------------------------------------------------------------
    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample_layers[0](x)

    def forward_stage(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        for i, (downsample, blocks) in enumerate(zip(self.downsample_layers, self.stages)):
            if i == stage:
                if i > 0:  # (downsample_layers[0] is the stem)
                    x = downsample(x)
                x = blocks(x)
        return x

    def stem_parts(self) -> List[nn.Module]:
        return [self.downsample_layers[0]]

    def stage_parts(self, stage: int) -> List[nn.Module]:
        parts = [self.stages[stage]]
        if stage > 0:
            parts.append(self.downsample_layers[stage])
        return parts

    def reset_parameters(self):
        """MetaFormer init: trunc-normal(0.02) linear/conv weights with zero biases; norms,
        scales and StarReLUs at their defaults; :meth:`init_module` for anything else."""
        for m in self.modules():
            self.init_module(m)

    def init_module(self, m: nn.Module):
        """Initialise one module (called in module order, so random draws are reproducible)."""
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(
            m, (nn.LayerNorm, nn.GroupNorm, _BatchNorm, LayerNormWithoutBias, Scale, StarReLU)
        ):
            m.reset_parameters()
