"""DMA, the Dynamic Multi-level Attention token mixer of DMFormer (Wei et al., "DMFormer:
Closing the Gap Between CNN and Vision Transformers", ICASSP 2023, arXiv 2209.07738).

**A reconstruction** (no official code; docs/dmformer.md): the gate equations are
from a reading note of the paper (``V = ReLU(FC(GAP(X)))``, ``Attn = Sigmoid(FC(V))``,
``Output = Attn * Conv1x1(X')``); the branch kernels/dilations, the fusion, the gate's reduction
and input and the optional VAN-style projection wrapper are our proposals, all
arguments.
"""

from typing import List, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer

from ..layers.depthwise import DepthwiseConv2d
from ..layers.pointwise import PointwiseConv2d

BRANCH_MODES = ('parallel', 'cascade')
FUSIONS = ('sum', 'concat')
GATE_INPUTS = ('input', 'fused')


def _sum(tensors: List[torch.Tensor]) -> torch.Tensor:
    """``sum(tensors)`` (the same additions in the same order) in a form TorchScript
    compiles."""
    total = tensors[0]
    for t in tensors[1:]:
        total = total + t
    return total


class ChannelGate(nn.Module):
    """``sigmoid(fc2(relu(fc1(GAP(x)))))``: one weight in (0, 1) per output channel (the
    squeeze-and-excitation form DMA's gate takes).

    Args:
        in_channels: channels of the map that is pooled.
        out_channels: gate weights produced.
        hidden_channels: width of ``fc1``'s output.
    """

    def __init__(self, in_channels: int, out_channels: int, hidden_channels: int):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, hidden_channels)
        self.act = nn.ReLU(inplace=True)
        self.fc2 = nn.Linear(hidden_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C_in, H, W) -> gate weights (B, C_out)."""
        return torch.sigmoid(self.fc2(self.act(self.fc1(x.mean(dim=(2, 3))))))


class DMA(nn.Module):
    """Dynamic multi-level attention on NCHW maps (reconstruction, see the module docstring).

    Levels ``X_i = DWConv_{k_i, dilation d_i}(X)`` (parallel) or ``X_i = DWConv_i(X_{i-1})``
    (cascade, LKA-like); fused ``X' = sum_i X_i`` or ``concat_i X_i``; output
    ``gate(G) * fuse(X')`` with ``fuse`` a 1x1 conv (``n*C -> C`` for concat) and ``G = X``
    (``gate_input='input'``) or ``X'`` (``'fused'``). The output is not multiplied by the input
    (unlike LKA), following the note's formula.

    Parameters (sum fusion, gate on the input, r = ``gate_reduction``):
    ``sum_i(k_i^2 C + C) + (C^2 + C) + (2 C^2 / r + C / r + C)``, plus ``2 (C^2 + C)`` with
    ``projection``.

    Args:
        channels: input (= output) width C.
        kernel_sizes: odd depthwise kernel size of each level (default 3, 5, 7).
        dilations: dilation of each level (default 1, 2, 3: receptive fields 3, 9, 19).
        branch_mode: ``'parallel'`` (every level reads X) or ``'cascade'``.
        fusion: ``'sum'`` or ``'concat'`` of the levels.
        gate_reduction: the gate's hidden width is ``max(1, C_gate_in // gate_reduction)``.
        gate_input: ``'input'`` (GAP of X) or ``'fused'`` (GAP of X').
        projection: VAN-style wrapper ``proj_in`` (1x1) -> activation -> DMA -> ``proj_out``
            (1x1) plus a shortcut of the wrapper's input.
        act_cfg: the wrapper's activation.
    """

    def __init__(
        self,
        channels: int,
        kernel_sizes: Sequence[int] = (3, 5, 7),
        dilations: Sequence[int] = (1, 2, 3),
        branch_mode: str = 'parallel',
        fusion: str = 'sum',
        gate_reduction: int = 4,
        gate_input: str = 'input',
        projection: bool = False,
        act_cfg: dict = dict(type='GELU'),
    ):
        super().__init__()
        kernel_sizes, dilations = tuple(kernel_sizes), tuple(dilations)
        if not kernel_sizes or len(kernel_sizes) != len(dilations):
            raise ValueError(
                f'DMA needs one dilation per kernel size, got kernel_sizes '
                f'{kernel_sizes} and dilations {dilations}'
            )
        if any(not isinstance(k, int) or k < 1 or k % 2 == 0 for k in kernel_sizes):
            raise ValueError(
                f'DMA kernel sizes must be odd positive ints (same-size output), got {kernel_sizes}'
            )
        if any(not isinstance(d, int) or d < 1 for d in dilations):
            raise ValueError(f'DMA dilations must be positive ints, got {dilations}')
        for name, value, allowed in (
            ('branch_mode', branch_mode, BRANCH_MODES),
            ('fusion', fusion, FUSIONS),
            ('gate_input', gate_input, GATE_INPUTS),
        ):
            if value not in allowed:
                raise ValueError(f'DMA {name} must be one of {allowed}, got {value!r}')
        if not isinstance(gate_reduction, int) or gate_reduction < 1:
            raise ValueError(f'DMA gate_reduction must be a positive int, got {gate_reduction!r}')
        self.channels = channels
        self.kernel_sizes, self.dilations = kernel_sizes, dilations
        self.branch_mode, self.fusion, self.gate_input = branch_mode, fusion, gate_input

        self.projection = projection
        # without the wrapper these are None, which TorchScript compiles away
        self.proj_in = PointwiseConv2d(channels, channels) if projection else None
        self.act = build_activation_layer(act_cfg) if projection else None
        self.proj_out = PointwiseConv2d(channels, channels) if projection else None
        self.branches = nn.ModuleList(
            DepthwiseConv2d(channels, k, padding=d * (k - 1) // 2, dilation=d)
            for k, d in zip(kernel_sizes, dilations)
        )
        fused_channels = channels * len(kernel_sizes) if fusion == 'concat' else channels
        self.fuse = PointwiseConv2d(fused_channels, channels)
        gate_in = channels if gate_input == 'input' else fused_channels
        self.gate = ChannelGate(gate_in, channels, max(1, gate_in // gate_reduction))

    def levels(self, x: torch.Tensor) -> List[torch.Tensor]:
        """The multi-level features X_1..X_n of the input X."""
        out: List[torch.Tensor] = []
        for branch in self.branches:
            out.append(branch(out[-1] if self.branch_mode == 'cascade' and len(out) > 0 else x))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        if self.proj_in is not None and self.act is not None:
            x = self.act(self.proj_in(x))
        levels = self.levels(x)
        fused = torch.cat(levels, dim=1) if self.fusion == 'concat' else _sum(levels)
        gate = self.gate(x if self.gate_input == 'input' else fused)
        out = gate[:, :, None, None] * self.fuse(fused)
        if self.proj_out is not None:
            out = self.proj_out(out) + shortcut
        return out
