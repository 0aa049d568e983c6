"""Attention with an additive bias, computed a block of queries at a time, for training.

``softmax(q @ k * scale + bias) @ v`` written as an autograd function that never holds the
whole (queries x keys) matrix: the forward keeps only the output and each query's
log-sum-exp, and the backward recomputes the attention weights block by block from them
(the scheme of memory-efficient / flash attention). TransXNet's stage-1 attention at
800x1216 has 60800 x 950 weights per image and head (231 MB in float32), which the plain
path keeps for the backward in every block; here a block of queries is about 4 MB. The
bias gets its gradient too (TransXNet learns its relative position encoding), which
PyTorch's fused CPU attention does not give.

Equal to the plain computation up to float rounding (tested against it in float64).
"""

from typing import Optional

import torch
from torch.autograd.function import once_differentiable

# elements of one block of attention weights (batch x heads x queries x keys): 4 MB float32
BLOCK_ELEMENTS = 2**20


def _block_size(q: torch.Tensor, k: torch.Tensor) -> int:
    batch, heads, _, keys = q.shape[0], q.shape[1], q.shape[2], k.shape[-1]
    return max(1, BLOCK_ELEMENTS // (batch * heads * keys))


def _weights(
    q_block: torch.Tensor, k: torch.Tensor, bias_block: Optional[torch.Tensor], scale: float
) -> torch.Tensor:
    """The logits of one block of queries (a new tensor, modified in place by callers)."""
    logits = torch.matmul(q_block, k).mul_(scale)
    if bias_block is not None:
        logits.add_(bias_block)
    return logits


class _ChunkedAttentionFunction(torch.autograd.Function):
    @staticmethod
    def forward(
        ctx,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        bias: Optional[torch.Tensor],
        scale: float,
    ) -> torch.Tensor:
        queries = q.shape[2]
        block = _block_size(q, k)
        out = q.new_empty(q.shape[:-1] + (v.shape[-1],))
        log_sum_exp = q.new_empty(q.shape[:-1] + (1,))
        for start in range(0, queries, block):
            end = min(start + block, queries)
            logits = _weights(
                q[:, :, start:end], k, None if bias is None else bias[:, :, start:end], scale
            )
            lse = torch.logsumexp(logits, dim=-1, keepdim=True)
            log_sum_exp[:, :, start:end] = lse
            out[:, :, start:end] = torch.matmul(logits.sub_(lse).exp_(), v)
        ctx.save_for_backward(q, k, v, bias, out, log_sum_exp)
        ctx.scale = scale
        return out

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out: torch.Tensor):
        q, k, v, bias, out, log_sum_exp = ctx.saved_tensors
        scale, queries = ctx.scale, q.shape[2]
        block = _block_size(q, k)
        # d logits = p * (d p - rowsum(d out * out)), with d p = d out @ v^T
        row_dot = (grad_out * out).sum(dim=-1, keepdim=True)
        grad_q = torch.empty_like(q)
        grad_k = torch.zeros_like(k)
        grad_v = torch.zeros_like(v)
        need_bias = bias is not None and ctx.needs_input_grad[3]
        grad_bias = torch.empty_like(bias) if need_bias else None
        for start in range(0, queries, block):
            end = min(start + block, queries)
            q_block, grad_block = q[:, :, start:end], grad_out[:, :, start:end]
            weights = (
                _weights(q_block, k, None if bias is None else bias[:, :, start:end], scale)
                .sub_(log_sum_exp[:, :, start:end])
                .exp_()
            )
            grad_v += torch.matmul(weights.transpose(-1, -2), grad_block)
            grad_logits = torch.matmul(grad_block, v.transpose(-1, -2))
            grad_logits.sub_(row_dot[:, :, start:end]).mul_(weights)
            if need_bias:  # the bias is broadcast over the batch (and maybe the heads)
                grad_bias_block = grad_logits.sum(dim=0, keepdim=True)
                if bias.shape[1] == 1:
                    grad_bias_block = grad_bias_block.sum(dim=1, keepdim=True)
                grad_bias[:, :, start:end] = grad_bias_block
            grad_logits.mul_(scale)
            grad_q[:, :, start:end] = torch.matmul(grad_logits, k.transpose(-1, -2))
            grad_k += torch.matmul(q_block.transpose(-1, -2), grad_logits)
        return grad_q, grad_k, grad_v, grad_bias, None


def chunked_attention_pays(q: torch.Tensor, k: torch.Tensor) -> bool:
    """Whether :func:`chunked_attention` is worth it for these queries and keys: when the
    attention weights are more than two blocks (below that, the recomputation costs more
    than the memory traffic it saves: docs/speed.md)."""
    return q.shape[0] * q.shape[1] * q.shape[2] * k.shape[-1] > 2 * BLOCK_ELEMENTS


def chunked_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, bias: Optional[torch.Tensor], scale: float
) -> torch.Tensor:
    """``softmax(q @ k * scale + bias, dim=-1) @ v`` with a memory-saving backward.

    Args:
        q: queries ``(B, heads, N_q, d)``.
        k: keys, already transposed: ``(B, heads, d, N_kv)``.
        v: values ``(B, heads, N_kv, d_v)``.
        bias: None or an additive bias ``(1, heads or 1, N_q, N_kv)`` (broadcast over the
            batch; it may require gradients).
        scale: factor of the logits.
    """
    if bias is not None and (
        bias.dim() != 4 or bias.shape[0] != 1 or bias.shape[2:] != (q.shape[2], k.shape[-1])
    ):
        raise ValueError(
            f'chunked_attention: bias of shape {tuple(bias.shape)} does not fit '
            f'queries {tuple(q.shape)} and keys {tuple(k.shape)}'
        )
    return _ChunkedAttentionFunction.apply(q, k, v, bias, scale)
