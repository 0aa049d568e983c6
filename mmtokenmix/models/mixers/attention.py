"""Global multi-head self-attention on channels-last maps, the token mixer of CAFormer's last
two stages (Yu et al., "MetaFormer Baselines for Vision", TPAMI 2024). Used here for the
attention baseline of the high-resolution benchmark."""

import torch
import torch.nn as nn


class Attention(nn.Module):
    """Self-attention over all ``H * W`` tokens with heads of ``head_dim`` channels
    (``C // head_dim`` heads, at least one), bias-free qkv and projection as in CAFormer.

    The attention matrix is materialised (``softmax(q k^T / sqrt(d)) v``), as in CAFormer, so
    time and memory grow with the square of the token count.

    Args:
        channels: input (= output) width C.
        head_dim: channels per head.
        qkv_bias / proj_bias: biases of the two linear layers.
    """

    def __init__(
        self, channels: int, head_dim: int = 32, qkv_bias: bool = False, proj_bias: bool = False
    ):
        super().__init__()
        self.head_dim = head_dim
        self.num_heads = max(channels // head_dim, 1)
        inner = self.num_heads * head_dim
        self.qkv = nn.Linear(channels, 3 * inner, bias=qkv_bias)
        self.proj = nn.Linear(inner, channels, bias=proj_bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, _ = x.shape
        qkv = self.qkv(x).reshape(B, H * W, 3, self.num_heads, self.head_dim)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each (B, heads, N, d)
        attn = (q @ k.transpose(-2, -1)) * self.head_dim**-0.5
        out = attn.softmax(dim=-1) @ v
        return self.proj(out.transpose(1, 2).reshape(B, H, W, -1))
