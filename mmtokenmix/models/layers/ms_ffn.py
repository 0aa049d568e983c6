import torch
import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer

from .depthwise import DepthwiseConv2d
from .fast_paths import use_inference_fast_path
from .pointwise import PointwiseConv2d


class MultiScaleDWConv(nn.Module):
    """Depthwise convs of several kernel sizes on consecutive channel groups, concatenated.

    With ``n`` kernel sizes, groups 2..n get ``channels // n`` channels each and the first
    gets the remainder (TransXNet's split).
    """

    def __init__(self, channels: int, kernel_sizes=(1, 3, 5, 7)):
        super().__init__()
        n = len(kernel_sizes)
        self.split = [channels - channels // n * (n - 1)] + [channels // n] * (n - 1)
        self.proj = nn.ModuleList(
            DepthwiseConv2d(c, k, padding=k // 2) for c, k in zip(self.split, kernel_sizes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        parts = torch.split(x, self.split, dim=1)
        # indexed, not zipped: torch.fx cannot iterate the traced result of torch.split
        outs = []
        for i, conv in enumerate(self.proj):
            outs.append(conv(parts[i]))
        return torch.cat(outs, dim=1)


class MultiScaleFFN(nn.Module):
    """MS-FFN of TransXNet (``Mlp`` upstream): 1x1 expand (no bias) -> GELU -> BN, a residual
    multi-scale depthwise conv, GELU -> BN, 1x1 project (no bias) -> BN.

    Args:
        channels: input (= output) channels.
        hidden_channels: expanded width (``int(channels * mlp_ratio)``).
        bn_cfg / act_cfg: norm and activation.
        drop: dropout after the hidden activation and after the output projection.
    """

    def __init__(
        self,
        channels: int,
        hidden_channels: int,
        bn_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='GELU'),
        drop: float = 0.0,
    ):
        super().__init__()
        self.fc1 = nn.Sequential(
            PointwiseConv2d(channels, hidden_channels, bias=False),
            build_activation_layer(act_cfg),
            build_norm_layer(bn_cfg, hidden_channels)[1],
        )
        self.dwconv = MultiScaleDWConv(hidden_channels)
        self.act = build_activation_layer(act_cfg)
        self.norm = build_norm_layer(bn_cfg, hidden_channels)[1]
        self.fc2 = nn.Sequential(
            PointwiseConv2d(hidden_channels, channels, bias=False),
            build_norm_layer(bn_cfg, channels)[1],
        )
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.fc1(x)
        if not torch.jit.is_scripting():
            if use_inference_fast_path(self):  # eval: no dropout
                return self.fc2(self.norm(self.act(self.dwconv(x).add_(x))))
        x = self.norm(self.act(self.dwconv(x) + x))
        return self.drop(self.fc2(self.drop(x)))
