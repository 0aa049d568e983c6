"""Parameter and FLOP counts of models and of whole detectors/segmentors built from configs.

mmseg 1.2.2's ``get_flops.py`` is broken with mmengine 0.10 and mmdet's needs the dataset on
disk, so this builds the model from any mmtokenmix config and counts one synthetic image of a
given size two ways: mmengine's counter (a jit-trace counter that, unlike the mmcv 1.x counter
the papers used, also counts matrix multiplications: attention and dynamic convolutions) and
:func:`hook_style_flops`, which applies the mmcv 1.x rules.
"""

import os.path as osp
from functools import partial
from typing import Dict, Sequence, Tuple

import torch
import torch.nn as nn

from mmtokenmix.model_index import input_size, load_model_index

from .models import build_model_from_config, dummy_data_samples


def paper_input_size(cfg) -> Tuple[int, int]:
    """(h, w) the papers count the FLOPs of the config's model at: the ``Input Size`` of the
    config's entry in the model index (found by the config's file name)."""
    name = osp.basename(cfg.filename or '')
    for entry in load_model_index():
        if entry['Config'] and osp.basename(entry['Config']) == name:
            return input_size(entry)
    raise ValueError(
        f'{name or "this config"} is not in the model index, so its paper input '
        'size is unknown; pass --shape H W'
    )


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


HOOK_COUNTED = (
    nn.Conv2d,
    nn.Linear,
    nn.modules.batchnorm._BatchNorm,
    nn.GroupNorm,
    nn.LayerNorm,
    nn.modules.instancenorm._InstanceNorm,
    nn.ReLU,
    nn.ReLU6,
    nn.LeakyReLU,
    nn.PReLU,
    nn.ELU,
    nn.modules.pooling._MaxPoolNd,
    nn.modules.pooling._AvgPoolNd,
    nn.modules.pooling._AdaptiveAvgPoolNd,
    nn.Upsample,
)


def _module_flops(m: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """One module call, counted with the rules of mmcv 1.x's ``get_model_complexity_info``."""
    if isinstance(m, nn.Conv2d):
        per_position = (
            m.in_channels // m.groups * m.out_channels * m.kernel_size[0] * m.kernel_size[1]
        )
        positions = y.numel() // m.out_channels
        return per_position * positions + (m.out_channels * positions if m.bias is not None else 0)
    if isinstance(m, nn.Linear):
        return x.numel() * m.out_features
    if isinstance(
        m,
        (
            nn.modules.batchnorm._BatchNorm,
            nn.GroupNorm,
            nn.LayerNorm,
            nn.modules.instancenorm._InstanceNorm,
        ),
    ):
        affine = getattr(m, 'affine', None) or getattr(m, 'elementwise_affine', False)
        return x.numel() * (2 if affine else 1)
    if isinstance(m, (nn.Upsample,)):
        return y.numel()
    if isinstance(
        m,
        (
            nn.modules.pooling._MaxPoolNd,
            nn.modules.pooling._AvgPoolNd,
            nn.modules.pooling._AdaptiveAvgPoolNd,
        ),
    ):
        return x.numel()
    return y.numel()  # the activations


def hook_style_flops(model: nn.Module, inputs: Sequence[torch.Tensor]) -> int:
    """FLOPs (multiply-adds) the way the module-hook counters of the mmcv 1.x / ptflops era
    count them: convolutions, linear layers, norms, ReLU-family activations, pooling and
    upsampling modules. Functional operations -- attention matrix products, softmax, FFTs,
    SiLU -- are not counted, which is how the papers of that time report FLOPs."""
    total = [0]

    def hook(m, args, out):
        if torch.is_tensor(args[0]) and torch.is_tensor(out):
            total[0] += _module_flops(m, args[0], out)

    handles = [
        m.register_forward_hook(hook) for m in model.modules() if isinstance(m, HOOK_COUNTED)
    ]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total[0]


def module_complexity(model: nn.Module, inputs: Sequence[torch.Tensor]) -> Dict[str, int]:
    """Params and FLOPs of one call ``model(*inputs)``: ``flops`` with mmengine's counter,
    ``hook_flops`` with the mmcv 1.x rules of :func:`hook_style_flops`."""
    from mmengine.analysis import get_model_complexity_info

    inputs = tuple(inputs)
    with torch.no_grad():
        info = get_model_complexity_info(model, inputs=inputs, show_table=False, show_arch=False)
    return dict(
        params=count_parameters(model),
        flops=info['flops'],
        hook_flops=hook_style_flops(model, inputs),
    )


def model_complexity(cfg, shape: Sequence[int] = None) -> Dict[str, float]:
    """Params and FLOPs of ``cfg.model`` on one image of ``shape`` = (h, w), network only (no
    data preprocessing), see :func:`module_complexity`. Returns ``dict(params, flops,
    hook_flops, h, w)``."""
    from mmtokenmix.config_utils import detect_default_scope

    h, w = shape if shape is not None else paper_input_size(cfg)
    model = build_model_from_config(cfg).eval()
    samples = dummy_data_samples(detect_default_scope(cfg), h, w)
    model.forward = partial(model.forward, data_samples=samples, mode='tensor')
    return dict(module_complexity(model, (torch.zeros(1, 3, h, w),)), h=h, w=w)
