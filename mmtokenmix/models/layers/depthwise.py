"""Depthwise convolution with a faster backward on CPU, for training.

PyTorch's CPU backward of a depthwise convolution on NCHW maps (oneDNN, torch 2.5) is slow
for larger kernels, many times the forward (measurements: docs/speed.md). Its two parts are
computed separately here:

* the input gradient is a depthwise convolution of the output gradient with the flipped
  kernel (stride 1, "same" padding), which runs as fast as the forward;
* the weight gradient comes from the same oneDNN backward asked for the weight only, on
  channels-last copies of the input and the output gradient, where oneDNN has a fast kernel.

The result is the same gradient up to float rounding (tests compare it with autograd's in
float64). Used only where the shapes fit (stride 1, odd kernel, padding that keeps the size)
and only on the training fast path; the plain path is ``F.conv2d``.
"""

from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from .fast_paths import use_written_out_backward


class _DepthwiseConv2dFunction(torch.autograd.Function):
    """``F.conv2d(x, weight, bias, padding, dilation, groups=C)`` (stride 1, size-keeping
    padding) with the backward described in the module docstring."""

    @staticmethod
    def forward(
        ctx,
        x: torch.Tensor,
        weight: torch.Tensor,
        bias: Optional[torch.Tensor],
        padding: int,
        dilation: int,
    ) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.padding, ctx.dilation = padding, dilation
        ctx.has_bias = bias is not None
        return F.conv2d(x, weight, bias, padding=padding, dilation=dilation, groups=x.shape[1])

    @staticmethod
    @once_differentiable
    def backward(ctx, grad: torch.Tensor):
        x, weight = ctx.saved_tensors
        # under autocast the forward ran in the autocast dtype, which the gradient has
        x, weight = x.to(grad.dtype), weight.to(grad.dtype)
        padding, dilation, channels = ctx.padding, ctx.dilation, x.shape[1]
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = F.conv2d(
                grad, weight.flip(-2, -1), padding=padding, dilation=dilation, groups=channels
            )
        if ctx.needs_input_grad[1]:
            grad_weight = torch.ops.aten.convolution_backward(
                grad.contiguous(memory_format=torch.channels_last),
                x.contiguous(memory_format=torch.channels_last),
                weight,
                None,
                [1, 1],
                [padding, padding],
                [dilation, dilation],
                False,
                [0, 0],
                channels,
                [False, True, False],
            )[1].contiguous()
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad.sum(dim=(0, 2, 3))
        return grad_x, grad_weight, grad_bias, None, None


def fast_backward_pays(
    kernel_size: int, stride: int = 1, padding: int = 0, dilation: int = 1
) -> bool:
    """Whether :func:`depthwise_conv2d` applies to this convolution (stride 1, odd kernel,
    size-keeping padding) and is faster than PyTorch's backward: not for 3x3 kernels, where
    the layout copies cost more than the faster weight gradient saves (docs/speed.md)."""
    return (
        stride == 1
        and kernel_size % 2 == 1
        and kernel_size >= 5
        and padding == dilation * (kernel_size - 1) // 2
    )


def depthwise_conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: Optional[torch.Tensor],
    padding: int,
    dilation: int = 1,
) -> torch.Tensor:
    """Depthwise ``F.conv2d`` (stride 1, odd ``weight`` kernel, ``padding = dilation * (k - 1)
    / 2``) whose backward is the faster one of this module."""
    return _DepthwiseConv2dFunction.apply(x, weight, bias, padding, dilation)


class DepthwiseConv2d(nn.Conv2d):
    """A depthwise convolution (``nn.Conv2d(C, C, k, stride, padding, dilation, groups=C)``:
    the same parameters and state-dict keys) that, on the training fast path, runs
    :func:`depthwise_conv2d` when its shape allows and it pays (stride 1, odd kernel of at
    least 5, size-keeping padding); otherwise, on the plain path and under ``torch.compile``
    (which differentiates the convolution itself), the ordinary convolution."""

    def __init__(
        self,
        channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        bias: bool = True,
    ):
        super().__init__(
            channels,
            channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=channels,
            bias=bias,
        )
        self.fast_backward = fast_backward_pays(kernel_size, stride, padding, dilation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if (
                self.fast_backward
                and use_written_out_backward(self, x, handles_autocast=True)
                and x.dim() == 4
            ):
                return depthwise_conv2d(
                    x, self.weight, self.bias, self.padding[0], self.dilation[0]
                )
        return self._conv_forward(x, self.weight, self.bias)
