"""Bicubic resizing written out as gathers and matrix products, equal to
``F.interpolate(..., mode='bicubic')`` up to float rounding.

PyTorch's bicubic resize is separable: each output sample is a weighted sum of the 4 x 4
nearest input samples with weights ``w_row * w_col`` from Keys' cubic convolution kernel
(``A = -0.75``), taps beyond the border clamped to it. Written as two 1-D resizes it can be
a matrix product (deterministic on CUDA, where bicubic ``F.interpolate`` has no
deterministic backward) and has a fast backward on CPU (index-adds and a matrix product).
Sample positions and weights are computed in float32 (float64 for float64 inputs), as
PyTorch's kernels do, so the results agree to rounding.
"""

from typing import Optional, Tuple

import torch


def cubic_weights(t: torch.Tensor, a: float = -0.75) -> torch.Tensor:
    """Keys' cubic convolution weights of the 4 taps around a sample at fraction ``t``
    (the kernel PyTorch's bicubic interpolation uses), stacked in the last dimension."""

    def near(x):  # |x| <= 1
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):  # 1 < |x| < 2
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return torch.stack([far(t + 1), near(t), near(1 - t), far(2 - t)], dim=-1)


def bicubic_taps(
    in_size: int,
    out_size: int,
    *,
    align_corners: bool,
    dtype: torch.dtype = torch.float32,
    device: Optional[torch.device] = None,
) -> Tuple[torch.Tensor, torch.Tensor]:
    """Input indices ``(out_size, 4)`` (clamped to the border) and weights ``(out_size, 4)``
    of a 1-D bicubic resize from ``in_size`` to ``out_size`` samples, as PyTorch computes
    them: source position ``o * (in - 1) / (out - 1)`` with ``align_corners``, else
    ``(o + 0.5) * in / out - 0.5``, in ``dtype``."""
    if align_corners:
        scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
        pos = torch.arange(out_size, dtype=dtype, device=device) * torch.tensor(scale, dtype=dtype)
    else:
        pos = (torch.arange(out_size, dtype=dtype, device=device) + 0.5) * torch.tensor(
            in_size / out_size, dtype=dtype
        ) - 0.5
    left = pos.floor()
    weights = cubic_weights((pos - left).clamp(0, 1))
    index = (left.long()[:, None] + torch.arange(-1, 3, device=device)).clamp(0, in_size - 1)
    return index, weights


def bicubic_matrix(
    in_size: int,
    out_size: int,
    *,
    align_corners: bool,
    dtype: torch.dtype = torch.float32,
    device: Optional[torch.device] = None,
) -> torch.Tensor:
    """``(out_size, in_size)`` matrix ``M`` with ``M @ v`` = the 1-D bicubic resize of ``v``
    (clamped taps at the border add up)."""
    compute_dtype = torch.float64 if dtype == torch.float64 else torch.float32
    index, weights = bicubic_taps(
        in_size, out_size, align_corners=align_corners, dtype=compute_dtype
    )
    matrix = torch.zeros(out_size, in_size, dtype=compute_dtype)
    matrix.scatter_add_(1, index, weights)
    return matrix.to(dtype=dtype, device=device)


def bicubic_resize_separable(
    x: torch.Tensor, size: Tuple[int, int], align_corners: bool = False
) -> torch.Tensor:
    """``F.interpolate(x, size, mode='bicubic', align_corners=...)`` of an ``(N, C, H, W)``
    tensor as a resize of the rows (four gathered rows, weighted) followed by one of the
    columns (a matrix product). Its CPU backward is several times faster than
    ``F.interpolate``'s (TransXNet's stage-1 encoding, 3136 x 49 to 16384 x 256: about 200 ms
    forward and backward on 2 cores against about 30 ms)."""
    (rows_in, cols_in), (rows_out, cols_out) = x.shape[2:], size
    compute_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    index, weights = bicubic_taps(
        rows_in, rows_out, align_corners=align_corners, dtype=compute_dtype, device=x.device
    )
    weights = weights.to(x.dtype)
    rows = x.index_select(2, index[:, 0]) * weights[:, 0, None]
    for k in range(1, 4):
        rows = rows + x.index_select(2, index[:, k]) * weights[:, k, None]
    columns = bicubic_matrix(
        cols_in, cols_out, align_corners=align_corners, dtype=x.dtype, device=x.device
    )
    return rows @ columns.t()
