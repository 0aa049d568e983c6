"""Official TransXNet checkpoints -> mmtokenmix (mmdet 3.x / mmseg 1.x) checkpoints.

Our parameter names are the official ones, so conversion is: take the state dict out of its
container, validate the backbone part strictly against a TransXNet of the detected size, drop
the ImageNet classifier, and prefix ``backbone.`` where the checkpoint is backbone-only. Whole
mmdet 2.x / mmseg 0.x checkpoints (COCO RetinaNet / Mask R-CNN, ADE20K Semantic FPN) keep
their neck/head keys: the FPN, RetinaHead, RPNHead, Shared2FCBBoxHead, FCNMaskHead and FPNHead
parameter names are the same in mmdet 3.x / mmseg 1.x. ``tools/model_converters`` can check the
result against the model of a config.
"""

import math
from collections import OrderedDict
from typing import Dict, Tuple

import torch

from mmtokenmix.checkpoints.loading import (
    detect_dense_model,
    extract_state_dict,
    keys_with_prefixes,
    load_state_dict_checked,
    strip_prefix,
)
from mmtokenmix.models.backbones.transxnet import TransXNet

ARCH_BY_STEM_WIDTH = {48: 't', 64: 's', 76: 'b'}
CONFIG_PATTERNS = dict(
    retinanet='configs/retinanet_transxnet_{}_coco.py',
    maskrcnn='configs/maskrcnn_transxnet_{}_coco.py',
    sfpn='configs/sfpn_transxnet_{}_ade20k.py',
)


def detect_transxnet(backbone_sd: Dict[str, torch.Tensor]) -> Tuple[str, int]:
    """(arch, image_size) of a TransXNet backbone state dict, from its stem width and the
    stage-1 relative position encoding (``(1, heads, ceil(S/4)^2, N_kv)``)."""
    try:
        width = backbone_sd['patch_embed.proj.conv.weight'].shape[0]
        n_q = backbone_sd['relative_pos_enc.0'].shape[2]
    except KeyError as e:
        raise KeyError(f'not a TransXNet checkpoint: no {e} among {list(backbone_sd)[:5]}...')
    if width not in ARCH_BY_STEM_WIDTH:
        raise ValueError(f'stem width {width} matches no released TransXNet ({ARCH_BY_STEM_WIDTH})')
    side = math.isqrt(n_q)
    return ARCH_BY_STEM_WIDTH[width], side * 4


def convert_transxnet_checkpoint(checkpoint: dict) -> Tuple['OrderedDict', dict]:
    """Convert an official ImageNet, backbone-only or whole-detector/segmentor checkpoint.

    Returns the state dict to save (keys under ``backbone.``, plus neck/head keys when the
    input had them) and a small info dict. Raises
    :class:`~mmtokenmix.checkpoints.CheckpointMismatchError` listing the keys when the backbone
    part does not match TransXNet exactly.
    """
    state_dict = extract_state_dict(checkpoint)
    whole_model = any(k.startswith('backbone.') for k in state_dict)
    backbone = strip_prefix(state_dict, 'backbone.') if whole_model else state_dict
    arch, image_size = detect_transxnet(backbone)
    # the output norms the checkpoint has decide which stages the dense model returned
    with_norms = tuple(i for i in range(4) if f'norm{2 * i}.weight' in backbone)
    model = TransXNet(arch, image_size=image_size, out_indices=with_norms or (0, 1, 2, 3))
    load_state_dict_checked(
        model,
        backbone,
        allow_missing=lambda k: not with_norms and k.startswith('norm'),
        allow_unexpected=keys_with_prefixes(['classifier.']),
        source='TransXNet checkpoint',
    )
    if whole_model:
        out = OrderedDict(state_dict)
    else:
        out = OrderedDict(
            ('backbone.' + k, v) for k, v in backbone.items() if not k.startswith('classifier.')
        )
    info = dict(
        arch=arch, image_size=image_size, whole_model=whole_model, out_norm_stages=list(with_norms)
    )
    if whole_model:
        info['model'] = detect_dense_model(state_dict)
    return out, info
