import torch.nn as nn
from mmcv.cnn import ConvModule


class ConvPatchEmbed(nn.Module):
    """A strided convolution followed by a norm: the stem and the downsampling layer of
    conv-based hierarchies (e.g. TransXNet: 7x7/4 stem, 3x3/2 downsampling, both + BN).

    The conv has no bias when a norm follows. Output size is ``ceil``-style for the usual
    ``padding = kernel_size // 2``. State-dict keys: ``proj.conv.*`` and ``proj.bn.*``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int,
                 padding: int, norm_cfg: dict = dict(type='BN'), act_cfg: dict = None):
        super().__init__()
        self.proj = ConvModule(in_channels, out_channels, kernel_size, stride=stride,
                               padding=padding, norm_cfg=norm_cfg, act_cfg=act_cfg)

    def forward(self, x):
        return self.proj(x)
