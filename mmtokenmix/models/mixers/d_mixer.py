"""D-Mixer of TransXNet (Lou et al., "TransXNet: Learning Both Global and Local Dynamics
with a Dual Dynamic Token Mixer for Visual Recognition", IEEE TNNLS 2025, arXiv 2310.19380).

Half of the channels go through IDConv (an input-dependent depthwise conv), the other half
through OSRA (attention over overlapping spatially-reduced keys/values); a squeezed token
enhancer (STE) fuses the concatenation. Module and parameter names follow the official code so
that its checkpoints load without renaming.
"""

import math
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer, build_norm_layer
from torch.fx._symbolic_trace import is_fx_tracing

from ..layers.chunked_attention import chunked_attention, chunked_attention_pays
from ..layers.conv_norm_act import ConvNormAct
from ..layers.depthwise import depthwise_conv2d, fast_backward_pays
from ..layers.fast_paths import use_inference_fast_path, use_written_out_backward
from ..layers.interpolation import bicubic_resize_separable
from ..layers.pointwise import PointwiseConv2d
from ..layers.pooling import adaptive_avg_pool2d_as_matmul


def resize_relative_pos_enc(
    rpe: torch.Tensor, size: Tuple[int, int], separable: bool = False
) -> torch.Tensor:
    """Resize a ``(1, heads, N_q, N_kv)`` relative position encoding to ``size``.

    Upstream treats the flattened (query x key) matrix as a 2-D image and resizes it
    bicubically (``align_corners=False``). It has no spatial meaning, but it is what the
    released weights were trained with, so it is replicated exactly. ``separable=True``
    computes the same resize as two 1-D ones (:func:`~mmtokenmix.models.layers.interpolation.
    bicubic_resize_separable`), whose backward is much faster than ``F.interpolate``'s on
    CPU.
    """
    if rpe.shape[2] == size[0] and rpe.shape[3] == size[1]:
        return rpe
    if not torch.jit.is_scripting():  # (TorchScript compiles the interpolation)
        if separable:
            return bicubic_resize_separable(rpe, size)
    return F.interpolate(rpe, size=size, mode='bicubic', align_corners=False)


class IDConv(nn.Module):
    """Input-dependent depthwise convolution (``DynamicConv2d`` upstream).

    ``G`` learnable kernel/bias sets are mixed per sample and channel with softmax weights
    predicted from the input: the kernel from a ``K x K`` adaptive average pool, the bias from
    the global mean, both through the *same* ``proj`` (so it runs twice per forward and, in
    training, updates its BN statistics twice). Generated channels are group-major
    (index ``g * C + c``).

    Args:
        channels: number of input (= output) channels.
        kernel_size: size ``K`` of the depthwise kernel.
        num_groups: number ``G`` of kernel sets mixed by the softmax (must be > 1).
        reduction_ratio: width reduction of the weight generator.
        bn_cfg / act_cfg: norm and activation of the generator's first layer.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 7,
        num_groups: int = 2,
        reduction_ratio: int = 4,
        bn_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='GELU'),
    ):
        super().__init__()
        if num_groups < 2:
            raise ValueError(f'IDConv needs num_groups > 1, got {num_groups}')
        self.num_groups = num_groups
        self.kernel_size = kernel_size
        self.weight = nn.Parameter(torch.empty(num_groups, channels, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(num_groups, channels))
        self.pool = nn.AdaptiveAvgPool2d(kernel_size)
        hidden = channels // reduction_ratio
        self.proj = nn.Sequential(
            ConvNormAct(channels, hidden, 1, norm_cfg=bn_cfg, act_cfg=act_cfg),
            PointwiseConv2d(hidden, channels * num_groups),
        )
        nn.init.trunc_normal_(self.weight, std=0.02)
        nn.init.trunc_normal_(self.bias, std=0.02)

    @torch.jit.unused
    def _pool_for_export(self, x: torch.Tensor) -> torch.Tensor:
        """The K x K adaptive pooling as two matrix products: ONNX has no adaptive pooling,
        and mmdeploy's rewrite of it averages other windows (see ``layers/pooling.py``)."""
        return adaptive_avg_pool2d_as_matmul(x, self.kernel_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        K, G = self.kernel_size, self.num_groups
        if not torch.jit.is_scripting():
            if not is_fx_tracing() and B == 1 and self.proj[0].norm.training:
                raise ValueError(
                    'IDConv cannot train on a batch of 1: its weight generator applies '
                    'BatchNorm to the (1, C, 1, 1) global mean (as the official TransXNet '
                    'does). Use >= 2 images per GPU, or norm_eval=True to keep BatchNorm '
                    'statistics fixed.'
                )
        exporting = False
        if not torch.jit.is_scripting():
            exporting = torch.onnx.is_in_onnx_export()
        pooled = self._pool_for_export(x) if exporting else self.pool(x)
        scale = self.proj(pooled).reshape(B, G, C, K, K).softmax(dim=1)
        weight = (scale * self.weight.unsqueeze(0)).sum(dim=1).reshape(B * C, 1, K, K)
        scale = self.proj(x.mean(dim=(2, 3), keepdim=True)).reshape(B, G, C).softmax(dim=1)
        bias = (scale * self.bias.unsqueeze(0)).sum(dim=1).flatten()
        if torch.jit.is_scripting():
            return _per_sample_depthwise_conv(x, weight, bias, K // 2)
        fast_backward = fast_backward_pays(K, padding=K // 2) and use_written_out_backward(
            self, x, handles_autocast=True
        )
        return per_sample_depthwise_conv(x, weight, bias, K // 2, fast_backward)


def _per_sample_depthwise_conv(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor,
    padding: int,
    fast_backward: bool = False,
) -> torch.Tensor:
    """Depthwise conv of each sample with its own kernels (``weight``: (B*C, 1, K, K), ``bias``:
    (B*C,)), as one grouped conv over the batch (``fast_backward``: with the faster backward
    of :func:`depthwise_conv2d`)."""
    B, C, H, W = x.shape
    x = x.reshape(1, B * C, H, W)
    if not torch.jit.is_scripting():
        if fast_backward:
            return depthwise_conv2d(x, weight, bias, padding).reshape(B, C, H, W)
    out = F.conv2d(x, weight, bias, padding=padding, groups=B * C)
    return out.reshape(B, C, H, W)


# inductor (torch 2.5) fails to lower this conv; it runs eagerly (TorchScript cannot compile
# the wrapper and calls the function itself)
per_sample_depthwise_conv = torch.compiler.disable(_per_sample_depthwise_conv)


class OSRA(nn.Module):
    """Overlapping spatial reduction attention (``Attention`` upstream).

    Queries are 1x1 projections of every position; keys/values come from an overlapping
    strided depthwise conv (kernel ``r + 3``, stride ``r``) followed by a depthwise 3x3 local
    refinement added as a residual (also when ``r == 1``). The attention logits get a relative
    position encoding, resized to the actual (N_q, N_kv) shape. There is no output projection
    (the D-Mixer's STE follows). On the inference fast path the same attention runs through
    ``F.scaled_dot_product_attention`` (the encoding as its additive mask); on the training
    fast path, where the attention matrix is large, through
    :func:`~mmtokenmix.models.layers.chunked_attention.chunked_attention`, which keeps memory
    linear in the number of queries and gives the encoding its gradient.

    Args:
        channels: input (= output) channels; split contiguously into ``num_heads`` heads.
        num_heads: attention heads.
        sr_ratio: spatial-reduction ratio ``r`` of keys/values.
        bn_cfg / act_cfg: norm and activation of the reduction convs.
        attn_drop: dropout on the attention weights.
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 1,
        sr_ratio: int = 1,
        bn_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='GELU'),
        attn_drop: float = 0.0,
    ):
        super().__init__()
        if channels % num_heads:
            raise ValueError(
                f'OSRA channels ({channels}) must be divisible by num_heads ({num_heads})'
            )
        self.num_heads = num_heads
        self.sr_ratio = sr_ratio
        self.scale = (channels // num_heads) ** -0.5
        self.q = PointwiseConv2d(channels, channels)
        self.kv = PointwiseConv2d(channels, channels * 2)
        self.attn_drop = nn.Dropout(attn_drop)
        if sr_ratio > 1:
            self.sr = nn.Sequential(
                ConvNormAct(
                    channels,
                    channels,
                    sr_ratio + 3,
                    stride=sr_ratio,
                    padding=(sr_ratio + 3) // 2,
                    groups=channels,
                    bias=False,
                    norm_cfg=bn_cfg,
                    act_cfg=act_cfg,
                ),
                ConvNormAct(
                    channels,
                    channels,
                    1,
                    groups=channels,
                    bias=False,
                    norm_cfg=bn_cfg,
                    act_cfg=None,
                ),
            )
        else:
            self.sr = nn.Identity()
        self.local_conv = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)

    def kv_size(self, height: int, width: int) -> Tuple[int, int]:
        """Spatial size of the reduced key/value grid for an input of ``height x width``."""
        return math.ceil(height / self.sr_ratio), math.ceil(width / self.sr_ratio)

    @torch.jit.unused
    def _use_chunked_attention(self, q: torch.Tensor, k: torch.Tensor) -> bool:
        """The training fast path: attention through :func:`chunked_attention` (memory
        linear in the number of queries; not under autocast, which it does not handle, nor
        under ``torch.compile``, nor with active attention dropout)."""
        return (
            use_written_out_backward(self, q)
            and not (self.training and self.attn_drop.p > 0)
            and chunked_attention_pays(q, k)
        )

    def forward(self, x: torch.Tensor, rpe: Optional[torch.Tensor] = None) -> torch.Tensor:
        B, C, H, W = x.shape
        heads = self.num_heads
        q = self.q(x).reshape(B, heads, C // heads, -1).transpose(-1, -2)
        kv = self.sr(x)
        kv = self.local_conv(kv) + kv
        k, v = torch.chunk(self.kv(kv), 2, dim=1)
        k = k.reshape(B, heads, C // heads, -1)
        v = v.reshape(B, heads, C // heads, -1).transpose(-1, -2)
        if rpe is not None:
            rpe = resize_relative_pos_enc(rpe, (q.shape[2], k.shape[3]))
        if not torch.jit.is_scripting():
            if use_inference_fast_path(self):
                # fused: the (queries x keys) matrix is never written out whole, which is what
                # bounds this attention at detection sizes (stage 1: ~230 MB per matrix)
                # (CPU's flash kernel needs contiguous inputs and a mask that does not ask for
                # gradients, else the slow math kernel runs)
                out = F.scaled_dot_product_attention(
                    q.contiguous(),
                    k.transpose(-1, -2).contiguous(),
                    v.contiguous(),
                    attn_mask=None if rpe is None else rpe.detach(),
                    scale=self.scale,
                )
                return out.transpose(-1, -2).reshape(B, C, H, W)
            if self._use_chunked_attention(q, k):
                out = chunked_attention(q, k, v, rpe, self.scale)
                return out.transpose(-1, -2).reshape(B, C, H, W)
        attn = (q @ k) * self.scale
        if rpe is not None:
            attn = attn + rpe
        attn = self.attn_drop(attn.softmax(dim=-1))
        out = attn @ v
        return out.transpose(-1, -2).reshape(B, C, H, W)


class DMixer(nn.Module):
    """Dual-dynamic token mixer of TransXNet (``HybridTokenMixer`` upstream).

    ``x1, x2 = chunk(x, 2)``; ``x = cat(IDConv(x1), OSRA(x2, rpe))``; then the squeezed token
    enhancer ``x = STE(x) + x`` with STE = dw3x3 -> GELU -> BN -> 1x1 -> GELU -> BN -> 1x1 -> BN
    (activation *before* BN, as upstream).

    Args:
        channels: input (= output) channels, must be even.
        kernel_size / num_groups: IDConv kernel size and kernel sets.
        num_heads / sr_ratio: OSRA heads and spatial-reduction ratio.
        reduction_ratio: STE squeeze; inner width ``max(16, channels // reduction_ratio)``.
        bn_cfg / act_cfg: norm and activation used inside.
    """

    def __init__(
        self,
        channels: int,
        kernel_size: int = 7,
        num_groups: int = 2,
        num_heads: int = 1,
        sr_ratio: int = 1,
        reduction_ratio: int = 8,
        bn_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='GELU'),
    ):
        super().__init__()
        if channels % 2:
            raise ValueError(f'D-Mixer channels must be even, got {channels}')
        half = channels // 2
        self.local_unit = IDConv(half, kernel_size, num_groups, bn_cfg=bn_cfg, act_cfg=act_cfg)
        self.global_unit = OSRA(half, num_heads, sr_ratio, bn_cfg=bn_cfg, act_cfg=act_cfg)
        inner = max(16, channels // reduction_ratio)
        self.proj = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, groups=channels),
            build_activation_layer(act_cfg),
            build_norm_layer(bn_cfg, channels)[1],
            PointwiseConv2d(channels, inner),
            build_activation_layer(act_cfg),
            build_norm_layer(bn_cfg, inner)[1],
            PointwiseConv2d(inner, channels),
            build_norm_layer(bn_cfg, channels)[1],
        )

    def forward(self, x: torch.Tensor, rpe: Optional[torch.Tensor] = None) -> torch.Tensor:
        x1, x2 = torch.chunk(x, 2, dim=1)
        x = torch.cat([self.local_unit(x1), self.global_unit(x2, rpe)], dim=1)
        if not torch.jit.is_scripting():
            if use_inference_fast_path(self):
                return self.proj(x).add_(x)  # the same sum, into the new tensor
        return self.proj(x) + x
