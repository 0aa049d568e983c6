import torch
import torch.nn as nn

from .fast_paths import use_inference_fast_path


class PointwiseConv2d(nn.Conv2d):
    """A 1x1 convolution (``nn.Conv2d(in, out, 1)``: same parameters and state-dict keys)
    that, on the inference fast path, runs as one batched matrix product over the NCHW map.

    oneDNN's 1x1 convolution on NCHW maps reorders them to its blocked layout and back; the
    matrix product reads them as they are (faster for TransXNet's MS-FFN shapes in inference:
    docs/speed.md), with the same result up to float rounding (mostly bit-identical).
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True):
        super().__init__(in_channels, out_channels, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if use_inference_fast_path(self) and x.dim() == 4:
                return self._forward_as_matrix_product(x)
        return self._conv_forward(x, self.weight, self.bias)

    def _forward_as_matrix_product(self, x: torch.Tensor) -> torch.Tensor:
        B, C, H, W = x.shape
        # (a batched product with the weight expanded; torch.matmul would copy x to fold the
        # batch into one product)
        weight = self.weight.view(1, self.out_channels, C).expand(B, -1, -1)
        x = x.reshape(B, C, H * W)
        if self.bias is None:
            y = torch.bmm(weight, x)
        else:
            y = torch.baddbmm(self.bias.view(1, -1, 1).expand(B, -1, H * W), weight, x)
        return y.view(B, self.out_channels, H, W)
