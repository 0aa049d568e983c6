"""SepConv, the token mixer of ConvFormer (Yu et al., "MetaFormer Baselines for Vision",
TPAMI 2024) that CDFFormer uses in its first two stages: MobileNetV2's inverted separable
convolution on channels-last maps."""

import torch
import torch.nn as nn

from ..layers.depthwise import DepthwiseConv2d
from ..layers.metaformer import StarReLU


class SepConv(nn.Module):
    """``pwconv1`` (C -> med) -> StarReLU -> depthwise ``kernel_size`` conv -> ``pwconv2``
    (med -> C), all bias-free upstream; input and output (B, H, W, C).

    Args:
        channels: input (= output) width C.
        expansion_ratio: ``med = int(expansion_ratio * C)``.
        kernel_size: depthwise kernel (padding keeps the size).
        bias: biases of the three layers.
    """

    def __init__(
        self, channels: int, expansion_ratio: float = 2.0, kernel_size: int = 7, bias: bool = False
    ):
        super().__init__()
        med = int(expansion_ratio * channels)
        self.pwconv1 = nn.Linear(channels, med, bias=bias)
        self.act1 = StarReLU()
        self.dwconv = DepthwiseConv2d(med, kernel_size, padding=kernel_size // 2, bias=bias)
        self.act2 = nn.Identity()
        self.pwconv2 = nn.Linear(med, channels, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.pwconv1(x)).permute(0, 3, 1, 2)
        x = self.dwconv(x).permute(0, 2, 3, 1)
        return self.pwconv2(self.act2(x))
