from typing import List, Sequence

import torch
import torch.nn as nn


class DropPath(nn.Module):
    """Stochastic depth: in training, zero the whole residual branch of each sample with
    probability ``drop_prob`` and scale the kept ones by ``1 / (1 - drop_prob)``.

    Computes exactly what mmcv's ``DropPath`` computes (the same random draws, so training runs
    repeat bit for bit), in a form ``torch.jit.script`` compiles.
    """

    def __init__(self, drop_prob: float = 0.1):
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep_prob = 1.0 - self.drop_prob
        shape = [x.shape[0]] + [1] * (x.dim() - 1)  # one draw per sample
        random_tensor = keep_prob + torch.rand(shape, dtype=x.dtype, device=x.device)
        return x.div(keep_prob) * random_tensor.floor()

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'


def check_drop_path_rate(drop_path_rate: float) -> float:
    """``drop_path_rate`` if it is a probability a block can be dropped with, [0, 1)."""
    if (
        isinstance(drop_path_rate, bool)
        or not isinstance(drop_path_rate, (int, float))
        or not 0.0 <= drop_path_rate < 1.0
    ):
        raise ValueError(f'drop_path_rate must be a number in [0, 1), got {drop_path_rate!r}')
    return float(drop_path_rate)


def stochastic_depth_rates(depths: Sequence[int], drop_path_rate: float) -> List[List[float]]:
    """Per-stage lists of drop-path rates, linear over all blocks of the network.

    Block ``j`` (counted over all stages) gets ``drop_path_rate * j / (sum(depths) - 1)``,
    so the first block gets 0 and the last exactly ``drop_path_rate`` (the TransXNet /
    PoolFormer schedule; note ``torch.linspace`` schedules give the same values).
    """
    drop_path_rate = check_drop_path_rate(drop_path_rate)
    total = sum(depths)
    denom = max(total - 1, 1)
    rates, start = [], 0
    for depth in depths:
        rates.append([drop_path_rate * (start + j) / denom for j in range(depth)])
        start += depth
    return rates
