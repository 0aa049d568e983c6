"""MetaFormer building blocks, as in "MetaFormer Baselines for Vision" (Yu et al., TPAMI 2024,
arXiv 2210.13452), the skeleton DFFormer/CDFFormer (Tatsunami & Taki, AAAI 2024) and DMFormer
(Wei et al., ICASSP 2023) are built on.

The block works on channels-last maps (B, H, W, C; DFFormer: LayerNorm and linear layers) or
on NCHW maps (``channels_last=False``; DMFormer: GroupNorm and 1x1 convs). Module and parameter
names follow the MetaFormer code (``norm1``, ``token_mixer``, ``mlp.fc1``, ``res_scale1.scale``,
``downsample_layers.i.{pre_norm,conv,post_norm}``), so official checkpoints load without
renaming. The token mixer is an argument: any module mapping a map to one of the same shape.
"""

from typing import Callable, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .drop_path import DropPath
from .fast_paths import use_fast_path, use_inference_fast_path, use_written_out_backward
from .pointwise import PointwiseConv2d


class LayerNormWithoutBias(nn.Module):
    """LayerNorm over the last (channel) dimension with a weight and no bias (eps 1e-6 in
    MetaFormer), with the biased variance.

    Written out as ``(x - mean) / sqrt(var + eps) * weight`` rather than ``F.layer_norm``: the
    official DFFormer code computes it this way, and the two differ in the last float bits;
    this way outputs are bit-identical. The fast path, in inference and training, uses
    ``F.layer_norm`` (one pass instead of six, and only the input and two statistics kept for
    the backward instead of four full-size tensors; the outputs of a whole network differ by
    ~2e-6 of their scale).
    """

    def __init__(self, channels: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))

    def reset_parameters(self):
        nn.init.ones_(self.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if use_fast_path(self):  # one fused kernel (in training too); equal up to rounding
                return F.layer_norm(x, x.shape[-1:], self.weight, None, self.eps)
        centred = x - x.mean(-1, keepdim=True)
        var = centred.pow(2).mean(-1, keepdim=True)
        return centred / torch.sqrt(var + self.eps) * self.weight


# The autograd functions below are not used under autocast (use_written_out_backward): they
# compute in the input's dtype, where autocast's promotion of StarReLU's float32 scalars gives
# float32.


def _star_relu_input_grads(
    grad: torch.Tensor, relu: torch.Tensor, squared: torch.Tensor, scale: torch.Tensor
):
    """Gradients of ``scale * relu(x) ** 2 + bias`` w.r.t. ``x``, ``scale`` and ``bias`` from
    the output gradient, ``relu(x)`` and its square (``grad`` is overwritten)."""
    grad_scale = (grad * squared).sum().view(1)
    grad_bias = grad.sum().view(1)
    return grad.mul_(relu).mul_(2 * scale), grad_scale, grad_bias


class _StarReLUFunction(torch.autograd.Function):
    """StarReLU that keeps only its input for the backward (autograd keeps ``relu(x)`` and
    ``relu(x) ** 2``, each as large as the input)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, scale: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x, scale)
        y = F.relu(x)
        return y.mul_(y).mul_(scale).add_(bias)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        x, scale = ctx.saved_tensors
        relu = F.relu(x)
        return _star_relu_input_grads(grad.clone(), relu, relu * relu, scale)


class _StarReLULinearFunction(torch.autograd.Function):
    """``F.linear(StarReLU(x), weight, bias)`` keeping only ``x`` for the backward: the
    activation, which the linear layer would keep, is recomputed (an element-wise pass) when
    the weight gradient needs it. In MetaFormer's MLP this is the widest tensor of the block
    (4x the width), kept three times by autograd (``relu(x)``, its square, the activation)."""

    @staticmethod
    def forward(
        ctx,
        x: torch.Tensor,
        act_scale: torch.Tensor,
        act_bias: torch.Tensor,
        weight: torch.Tensor,
        bias: Optional[torch.Tensor],
    ) -> torch.Tensor:
        ctx.save_for_backward(x, act_scale, act_bias, weight)
        ctx.has_bias = bias is not None
        y = F.relu(x)
        return F.linear(y.mul_(y).mul_(act_scale).add_(act_bias), weight, bias)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        x, act_scale, act_bias, weight = ctx.saved_tensors
        relu = F.relu(x)
        squared = relu * relu
        flat_grad = grad.reshape(-1, grad.shape[-1])
        activation = (squared * act_scale).add_(act_bias)
        grad_weight = flat_grad.t() @ activation.reshape(-1, activation.shape[-1])
        del activation
        grad_bias = flat_grad.sum(0) if ctx.has_bias else None
        grad_x, grad_act_scale, grad_act_bias = _star_relu_input_grads(
            grad @ weight, relu, squared, act_scale
        )
        return grad_x, grad_act_scale, grad_act_bias, grad_weight, grad_bias


class StarReLU(nn.Module):
    """``scale * relu(x) ** 2 + bias`` with learnable scalars (MetaFormer Baselines).

    On the training fast path it keeps only its input for the backward (an autograd function
    with the written-out gradient), instead of two tensors of the input's size.
    """

    def __init__(self, scale_value: float = 1.0, bias_value: float = 0.0):
        super().__init__()
        self.scale_value, self.bias_value = float(scale_value), float(bias_value)
        self.scale = nn.Parameter(torch.full((1,), self.scale_value))
        self.bias = nn.Parameter(torch.full((1,), self.bias_value))

    def reset_parameters(self):
        nn.init.constant_(self.scale, self.scale_value)
        nn.init.constant_(self.bias, self.bias_value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if use_inference_fast_path(self):
                # the same operations in place: one new tensor instead of four (these
                # element-wise passes over large maps are bound by memory traffic)
                y = F.relu(x)
                return y.mul_(y).mul_(self.scale).add_(self.bias)
            if use_written_out_backward(self, x):
                return _StarReLUFunction.apply(x, self.scale, self.bias)
        return self.scale * F.relu(x) ** 2 + self.bias


class SquaredReLU(nn.Module):
    """``relu(x) ** 2`` (the MetaFormer classification head's activation)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.square(F.relu(x))


class Scale(nn.Module):
    """Learnable per-channel scale (layer scale / res scale) of a channels-last or an NCHW map;
    the parameter has shape (C,) either way."""

    def __init__(self, channels: int, init_value: float = 1.0, channels_last: bool = True):
        super().__init__()
        self.init_value = float(init_value)
        self.channels_last = channels_last
        self.scale = nn.Parameter(torch.full((channels,), self.init_value))

    def reset_parameters(self):
        nn.init.constant_(self.scale, self.init_value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * (self.scale if self.channels_last else self.scale.view(-1, 1, 1))


class MetaFormerMlp(nn.Module):
    """``fc1`` -> [depthwise 3x3] -> activation -> dropout -> ``fc2`` -> dropout (``Mlp`` of
    MetaFormer: bias-free linear layers and StarReLU by default).

    Args:
        channels: input width.
        mlp_ratio: hidden width is ``int(mlp_ratio * channels)``.
        out_channels: output width (default: ``channels``).
        drop: dropout after the activation and after ``fc2``.
        act_layer: builds the activation (default StarReLU).
        bias: biases in ``fc1``/``fc2``.
        channels_last: linear layers on (B, H, W, C) maps; False: 1x1 convs on NCHW maps.
        mid_dwconv: a depthwise 3x3 conv (``dwconv``) after ``fc1``, as in VAN's MLP (NCHW only).
    """

    def __init__(
        self,
        channels: int,
        mlp_ratio: float = 4.0,
        out_channels: int = None,
        drop: float = 0.0,
        act_layer: Callable[[], nn.Module] = StarReLU,
        bias: bool = False,
        channels_last: bool = True,
        mid_dwconv: bool = False,
    ):
        super().__init__()
        if mid_dwconv and channels_last:
            raise ValueError('MetaFormerMlp: mid_dwconv needs NCHW maps (channels_last=False)')
        hidden = int(mlp_ratio * channels)

        def pointwise(c_in: int, c_out: int) -> nn.Module:
            return (
                nn.Linear(c_in, c_out, bias=bias)
                if channels_last
                else PointwiseConv2d(c_in, c_out, bias=bias)
            )

        self.fc1 = pointwise(channels, hidden)
        self.dwconv = (
            nn.Conv2d(hidden, hidden, 3, padding=1, groups=hidden) if mid_dwconv else nn.Identity()
        )
        self.act = act_layer()
        self.drop1 = nn.Dropout(drop)
        self.fc2 = pointwise(hidden, out_channels or channels)
        self.drop2 = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if self._fuses_activation_into_fc2(x):
                # training fast path: StarReLU recomputed in the backward, not kept
                return self.drop2(
                    _StarReLULinearFunction.apply(
                        self.fc1(x), self.act.scale, self.act.bias, self.fc2.weight, self.fc2.bias
                    )
                )
        return self.drop2(self.fc2(self.drop1(self.act(self.dwconv(self.fc1(x))))))

    @torch.jit.unused
    def _fuses_activation_into_fc2(self, x: torch.Tensor) -> bool:
        return (
            isinstance(self.act, StarReLU)
            and isinstance(self.fc2, nn.Linear)
            and isinstance(self.dwconv, nn.Identity)
            and not (self.training and self.drop1.p > 0)
            and use_written_out_backward(self, x)
        )


def _optional_scale(channels: int, init_value: Optional[float], channels_last: bool) -> nn.Module:
    return Scale(channels, init_value, channels_last) if init_value else nn.Identity()


class MetaFormerBlock(nn.Module):
    """``x = res_scale1(x) + layer_scale1(drop_path(token_mixer(norm1(x))))``, then the same
    with the MLP. A scale whose init value is None is the identity (DFFormer: no layer scale,
    res scale only in stages 3-4; DMFormer/PoolFormer: layer scale 1e-5, no res scale).

    Args:
        channels: block width.
        token_mixer: the mixer module (a map -> a map of the same shape and layout).
        mlp_ratio: MLP expansion (of the default MLP).
        drop: MLP dropout (of the default MLP).
        drop_path: stochastic-depth rate of both branches.
        layer_scale_init_value / res_scale_init_value: init of the branch / shortcut scales.
        norm_layer: builds the two pre-norms from the width (default: bias-free LayerNorm).
        mlp: the channel MLP (default: :class:`MetaFormerMlp` with ``mlp_ratio`` and ``drop``).
        channels_last: the layout of the maps (B, H, W, C), else NCHW; sets the scales' layout.
    """

    def __init__(
        self,
        channels: int,
        token_mixer: nn.Module,
        mlp_ratio: float = 4.0,
        drop: float = 0.0,
        drop_path: float = 0.0,
        layer_scale_init_value: Optional[float] = None,
        res_scale_init_value: Optional[float] = None,
        norm_layer: Callable[[int], nn.Module] = LayerNormWithoutBias,
        mlp: Optional[nn.Module] = None,
        channels_last: bool = True,
    ):
        super().__init__()
        self.norm1 = norm_layer(channels)
        self.token_mixer = token_mixer
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.layer_scale1 = _optional_scale(channels, layer_scale_init_value, channels_last)
        self.res_scale1 = _optional_scale(channels, res_scale_init_value, channels_last)
        self.norm2 = norm_layer(channels)
        self.mlp = mlp if mlp is not None else MetaFormerMlp(channels, mlp_ratio, drop=drop)
        self.layer_scale2 = _optional_scale(channels, layer_scale_init_value, channels_last)
        self.res_scale2 = _optional_scale(channels, res_scale_init_value, channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if use_inference_fast_path(self):  # the residual sums added in place
                x = self.layer_scale1(self.token_mixer(self.norm1(x))).add_(self.res_scale1(x))
                return self.layer_scale2(self.mlp(self.norm2(x))).add_(self.res_scale2(x))
        x = self.res_scale1(x) + self.layer_scale1(self.drop_path(self.token_mixer(self.norm1(x))))
        return self.res_scale2(x) + self.layer_scale2(self.drop_path(self.mlp(self.norm2(x))))


class Downsampling(nn.Module):
    """A strided conv between channels-last stages: optional bias-free LN before it (stages
    2-4), optional one after it (the stem). The stem takes an NCHW image; the others take and
    all return channels-last maps.

    Args:
        in_channels / out_channels / kernel_size / stride / padding: the conv (with bias).
        pre_norm: LN on the channels-last input (then the input is channels-last).
        post_norm: LN on the output.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        padding: int,
        pre_norm: bool = False,
        post_norm: bool = False,
    ):
        super().__init__()
        self.channels_last_input = pre_norm
        self.pre_norm = LayerNormWithoutBias(in_channels) if pre_norm else nn.Identity()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding)
        self.post_norm = LayerNormWithoutBias(out_channels) if post_norm else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.channels_last_input:
            x = self.pre_norm(x).permute(0, 3, 1, 2)
        x = self.conv(x).permute(0, 2, 3, 1)
        return self.post_norm(x)
