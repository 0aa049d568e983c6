"""Adaptive average pooling written as two matrix products, for export.

ONNX has no adaptive pooling: torch's exporter accepts ``adaptive_avg_pool2d`` only when the
map is a multiple of the output size, and mmdeploy rewrites it into an ``avg_pool2d`` with
kernel ``floor(size / out)``, which averages other windows whenever the size is not a multiple
(and fails when the map is smaller than the output). TransXNet's IDConv pools every stage's map
to K x K, so at most input sizes neither gives its outputs. Adaptive pooling is linear and
separable: ``P_h @ x @ P_w^T`` with ``P[i]`` averaging the input positions
``floor(i * n / k) .. ceil((i + 1) * n / k) - 1`` (PyTorch's windows), which exports at any
(static) size and equals ``F.adaptive_avg_pool2d`` up to float rounding.
"""

import torch


def adaptive_pool_matrix(n: int, k: int, dtype=torch.float32, device=None) -> torch.Tensor:
    """(k, n) matrix whose row ``i`` averages PyTorch's ``i``-th adaptive pooling window."""
    rows = torch.zeros(k, n, dtype=dtype, device=device)
    for i in range(k):
        start, end = (i * n) // k, -((-(i + 1) * n) // k)  # floor, ceil
        rows[i, start:end] = 1.0 / (end - start)
    return rows


def adaptive_avg_pool2d_as_matmul(x: torch.Tensor, output_size: int) -> torch.Tensor:
    """``F.adaptive_avg_pool2d(x, output_size)`` of a (B, C, H, W) map as ``P_h @ x @ P_w^T``
    (the shape must be known when this runs: at export, the traced size)."""
    H, W = int(x.shape[-2]), int(x.shape[-1])
    p_h = adaptive_pool_matrix(H, output_size, x.dtype, x.device)
    p_w = adaptive_pool_matrix(W, output_size, x.dtype, x.device)
    return torch.matmul(torch.matmul(p_h, x), p_w.t())
