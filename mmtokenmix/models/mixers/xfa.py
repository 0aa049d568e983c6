"""Cross Feature Attention (XFA) of XFormer (Zhao et al., "Lightweight Vision Transformer with
Cross Feature Attention", arXiv 2207.07268).

The paper's equations were not available, so the form is a
reconstruction with switchable variants:

* ``'xca'`` (default, Option A): attention across the *features*: per head, queries and keys
  are L2-normalised over the tokens, ``A = softmax(tau * q_hat k_hat^T)`` is a
  ``(d_h, d_h)`` map and the output is ``A v``. Cost is linear in the number of tokens.
* ``'xca_nosoftmax'`` (Option B): the same without the softmax.
* ``'separable'`` (Option C, MobileViTv2's separable self-attention): a softmax over tokens of
  a 1-channel score weights the keys into one context vector that gates ``relu(v)``.

For ``'xca'``/``'xca_nosoftmax'`` the parameters are those of multi-head self-attention
(``qkv``, ``proj``) plus one temperature per head, so MobileViT attention weights load 1:1.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

XFA_VARIANTS = ('xca', 'xca_nosoftmax', 'separable')


class CrossFeatureAttention(nn.Module):
    """XFA on token sequences ``(B, N, C)``; see the module docstring for the variants.

    Args:
        channels: token width C.
        num_heads: heads (``'xca'`` variants; C must be divisible by it).
        variant: one of :data:`XFA_VARIANTS`.
        qkv_bias: bias of the input projection.
        attn_drop: dropout on the attention map / context scores.
        proj_drop: dropout after the output projection.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 4,
        variant: str = 'xca',
        qkv_bias: bool = True,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
    ):
        super().__init__()
        if variant not in XFA_VARIANTS:
            raise ValueError(f'unknown XFA variant {variant!r}; choose from {XFA_VARIANTS}')
        self.variant = variant
        if variant == 'separable':
            self.num_heads = 1
            self.qkv = nn.Linear(channels, 1 + 2 * channels, bias=qkv_bias)
            self.temperature = None
        else:
            if channels % num_heads:
                raise ValueError(f'XFA: channels {channels} not divisible by num_heads {num_heads}')
            self.num_heads = num_heads
            self.qkv = nn.Linear(channels, 3 * channels, bias=qkv_bias)
            self.temperature = nn.Parameter(torch.ones(num_heads, 1, 1))
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(channels, channels)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, N, C = x.shape
        if self.temperature is None:  # 'separable' (only it has no temperatures)
            score, key, value = self.qkv(x).split([1, C, C], dim=-1)
            weights = self.attn_drop(score.softmax(dim=1))  # over the tokens
            context = (weights * key).sum(dim=1, keepdim=True)  # (B, 1, C)
            out = F.relu(value) * context
        else:
            # (3, B, heads, d_h, N): features as rows, tokens as columns
            qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads)
            q, k, v = qkv.permute(2, 0, 3, 4, 1).unbind(0)
            q = F.normalize(q, dim=-1)  # each feature over the tokens
            k = F.normalize(k, dim=-1)
            attn = (q @ k.transpose(-2, -1)) * self.temperature  # (B, heads, d_h, d_h)
            if self.variant == 'xca':
                attn = attn.softmax(dim=-1)
            out = (self.attn_drop(attn) @ v).permute(0, 3, 1, 2).reshape(B, N, C)
        return self.proj_drop(self.proj(out))
