"""The MetaFormer hierarchy ("MetaFormer Is Actually What You Need for Vision", Yu et al., CVPR
2022) written once for the backbones built on it (DFFormer/CDFFormer, DMFormer):
``downsample_layers[i]`` (the stem for ``i = 0``) followed by ``stages[i]``, a sequence of
blocks, for four stages; per-stage gradient checkpointing; the ``arch`` table/dict parsing; and
the MetaFormer initialisation. A subclass builds its stem, downsampling and blocks (its token
mixer, norm and layout) and hands them to :meth:`MetaFormerSkeleton.build_hierarchy`.
"""
from typing import Callable, Dict, List, Sequence, Tuple, Union

import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

from ..layers import LayerNormWithoutBias, Scale, StarReLU, stochastic_depth_rates
from .base import DenseBackbone


class MetaFormerSkeleton(DenseBackbone):
    """Base of the MetaFormer dense backbones; see the module docstring.

    Subclasses set :attr:`channels_last` (the layout between stages; outputs are always NCHW),
    :attr:`required_arch_keys` / :attr:`optional_arch_keys` (per-stage lists in ``arch``) and
    may extend :meth:`check_arch` and :meth:`init_module`.
    """

    channels_last = False
    required_arch_keys: Tuple[str, ...] = ('depths', 'dims')
    #: optional per-stage arch entries and their defaults
    optional_arch_keys: Dict[str, list] = {}

    # ---- arch -------------------------------------------------------------------------------
    @classmethod
    def parse_arch(cls, arch: Union[str, dict]) -> dict:
        """Validate ``arch`` (a name from ``arch_settings`` or a dict) and return the full
        settings dict (optional entries filled with their defaults)."""
        if isinstance(arch, str):
            arch = cls.named_arch(arch)
        elif not isinstance(arch, dict):
            raise TypeError(f'arch must be a str or a dict, got {type(arch).__name__}')
        arch = dict(arch)
        missing = [k for k in cls.required_arch_keys if k not in arch]
        if missing:
            raise ValueError(f'{cls.__name__} arch dict lacks {missing}; it needs '
                             f'{cls.required_arch_keys}')
        unknown = set(arch) - set(cls.required_arch_keys) - set(cls.optional_arch_keys)
        if unknown:
            raise ValueError(f'{cls.__name__} arch dict has unknown keys {sorted(unknown)}; '
                             f'allowed: {cls.required_arch_keys + tuple(cls.optional_arch_keys)}')
        for key, default in cls.optional_arch_keys.items():
            arch.setdefault(key, list(default))
        for key, values in arch.items():
            if not isinstance(values, (list, tuple)) or len(values) != cls.num_stages:
                raise ValueError(f'arch[{key!r}] needs {cls.num_stages} values, got {values!r}')
        for i, (depth, dim) in enumerate(zip(arch['depths'], arch['dims'])):
            if not (isinstance(depth, int) and depth >= 1 and isinstance(dim, int) and dim >= 1):
                raise ValueError(f'stage {i}: depth and width must be positive ints, got '
                                 f'depth {depth!r}, width {dim!r}')
        cls.check_arch(arch)
        return arch

    @classmethod
    def check_arch(cls, arch: dict):
        """Model-specific checks of a filled-in arch dict (raise ValueError)."""

    # ---- construction -----------------------------------------------------------------------
    def build_hierarchy(self, downsample_layers: Sequence[nn.Module],
                        make_block: Callable[[int, float], nn.Module], depths: Sequence[int],
                        drop_path_rate: float):
        """Register ``downsample_layers`` (stem first) and ``stages[i]`` = ``depths[i]`` blocks
        ``make_block(i, drop_path)``, with stochastic depth rising linearly to
        ``drop_path_rate`` over all blocks."""
        self.downsample_layers = nn.ModuleList(downsample_layers)
        dpr = stochastic_depth_rates(depths, drop_path_rate)
        self.stages = nn.ModuleList(
            nn.Sequential(*[make_block(i, rate) for rate in dpr[i]])
            for i in range(self.num_stages))

    # ---- DenseBackbone hooks ----------------------------------------------------------------
    def stem_parts(self) -> List[nn.Module]:
        return [self.downsample_layers[0]]

    def stage_parts(self, stage: int) -> List[nn.Module]:
        parts = [self.stages[stage]]
        if stage > 0:
            parts.append(self.downsample_layers[stage])
        return parts

    def forward_stage(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        """Downsampling and blocks of ``stage`` (the stem takes the image)."""
        return self.run_blocks(stage, self.stages[stage], self.downsample_layers[stage](x))

    def stage_output(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        x = self.out_norm(stage, x)
        return x.permute(0, 3, 1, 2) if self.channels_last else x

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
        elif isinstance(m, (nn.LayerNorm, nn.GroupNorm, _BatchNorm, LayerNormWithoutBias,
                            Scale, StarReLU)):
            m.reset_parameters()
