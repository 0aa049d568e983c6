import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.fx._symbolic_trace import is_fx_tracing

from .conv_norm_act import ConvNormAct


class ConvPatchEmbed(nn.Module):
    """A strided convolution followed by a norm: the stem and the downsampling layer of
    conv-based hierarchies (e.g. TransXNet: 7x7/4 stem, 3x3/2 downsampling, both + BN).

    The conv has no bias when a norm follows. Output size is ``ceil``-style for the usual
    ``padding = kernel_size // 2``; for a non-overlapping conv (DMFormer: 2x2/2, padding 0),
    ``pad_to_stride`` zero-pads the bottom/right up to a multiple of the stride first, so the
    output is ``ceil(size / stride)`` there too and no input row is dropped. State-dict keys:
    ``proj.conv.*`` and ``proj.<norm>.*`` (e.g. ``proj.bn``, ``proj.gn``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        padding: int,
        norm_cfg: dict = dict(type='BN'),
        act_cfg: dict = None,
        pad_to_stride: bool = False,
    ):
        super().__init__()
        if pad_to_stride and (2 * padding - kernel_size) % stride:
            raise ValueError(
                'pad_to_stride needs a conv whose windows tile the padded input '
                f'((2 * padding - kernel_size) % stride == 0), got kernel '
                f'{kernel_size}, stride {stride}, padding {padding}'
            )
        self.stride = stride
        self.pad_to_stride = pad_to_stride
        self.proj = ConvNormAct(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pad_to_stride:
            x = self._pad_to_stride(x)
        return self.proj(x)

    def _pad_to_stride(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if torch.jit.is_tracing() or is_fx_tracing():
                # a trace would bake the size-dependent padding in (silently wrong shapes at
                # other sizes; torch.fx cannot branch on it); padding stride - 1 gives the
                # same windows for every size
                return F.pad(x, (0, self.stride - 1, 0, self.stride - 1))
        pad_h, pad_w = (-x.shape[2]) % self.stride, (-x.shape[3]) % self.stride
        if pad_h > 0 or pad_w > 0:
            x = F.pad(x, (0, pad_w, 0, pad_h))
        return x
