import torch
import torch.nn as nn


class LayerScale2d(nn.Module):
    """Per-channel affine ``x * weight[c] + bias[c]`` on NCHW maps (layer scale with bias).

    As in TransXNet, the weight is stored with shape ``(C, 1, 1, 1)`` (a depthwise 1x1 conv
    kernel upstream) and there is a bias; both load 1:1 from the official checkpoints.
    """

    def __init__(self, channels: int, init_value: float = 1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels, 1, 1, 1), float(init_value)))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        return x * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)

    def forward_(self, x):
        """The same, in place on ``x`` (for a branch output nothing else holds, without
        autograd)."""
        return x.mul_(self.weight.view(1, -1, 1, 1)).add_(self.bias.view(1, -1, 1, 1))
