from typing import Optional

import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_conv_layer, build_norm_layer
from mmengine.model import constant_init, kaiming_init

# mmcv's ConvModule builds these activations without an ``inplace`` argument
_NO_INPLACE_ARGUMENT = ('Tanh', 'PReLU', 'Sigmoid', 'HSigmoid', 'Swish', 'GELU')


class ConvNormAct(nn.Sequential):
    """conv -> norm -> activation, built from mmcv configs: mmcv's ``ConvModule`` in its
    default order, with the same child names (``conv``, the norm's abbreviation such as
    ``bn``/``gn``, ``activate``), state-dict keys, bias rule (``bias='auto'``: a bias only
    without a norm), in-place activations and initialisation (Kaiming-normal fan-out conv,
    unit norm).

    Written as an ``nn.Sequential`` instead of using ``ConvModule`` because ``ConvModule``
    finds its norm by a name looked up at run time, which ``torch.jit.script`` cannot compile;
    a sequence of children scripts as it is.

    Args:
        in_channels / out_channels / kernel_size / stride / padding / dilation / groups: the
            convolution.
        bias: ``'auto'`` (a bias only when there is no norm), True or False.
        conv_cfg / norm_cfg / act_cfg: mmcv configs (None: plain ``nn.Conv2d`` / no norm /
            no activation).
        inplace: in-place activation where the activation takes the argument (as mmcv).
    """

    # the norm is reached through its registered name; scripted code never asks for it
    __jit_unused_properties__ = ['norm']

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        dilation: int = 1,
        groups: int = 1,
        bias='auto',
        conv_cfg: Optional[dict] = None,
        norm_cfg: Optional[dict] = None,
        act_cfg: Optional[dict] = dict(type='ReLU'),
        inplace: bool = True,
    ):
        super().__init__()
        if bias == 'auto':
            bias = norm_cfg is None
        self.add_module(
            'conv',
            build_conv_layer(
                conv_cfg,
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=groups,
                bias=bias,
            ),
        )
        self.norm_name = None
        if norm_cfg is not None:
            self.norm_name, norm = build_norm_layer(norm_cfg, out_channels)
            self.add_module(self.norm_name, norm)
        if act_cfg is not None:
            act_cfg = dict(act_cfg)
            if act_cfg['type'] not in _NO_INPLACE_ARGUMENT:
                act_cfg.setdefault('inplace', inplace)
            self.add_module('activate', build_activation_layer(act_cfg))
        if not hasattr(self.conv, 'init_weights'):
            leaky = act_cfg is not None and act_cfg['type'] == 'LeakyReLU'
            kaiming_init(
                self.conv,
                a=act_cfg.get('negative_slope', 0.01) if leaky else 0,
                nonlinearity='leaky_relu' if leaky else 'relu',
            )
        if self.norm is not None:
            constant_init(self.norm, 1, bias=0)

    @property
    def norm(self) -> Optional[nn.Module]:
        """The norm layer (None without one)."""
        return getattr(self, self.norm_name) if self.norm_name else None
