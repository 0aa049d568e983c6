"""Official DFFormer / CDFFormer checkpoints -> mmtokenmix (mmdet 3.x / mmseg 1.x) checkpoints.

Two official formats exist: the released ImageNet files (``dfformer_s18.pth`` ...: a raw state
dict of the classifier, filter bases for 224) and checkpoints of the official mmdet 2.x /
mmseg 0.x dense models (``backbone.`` prefix, output norms ``norm0``-``norm3``, filter bases
already at the nominal size 800 / 512, RetinaNet or Semantic FPN neck/head). Our parameter
names are the official ones, so conversion is: validate the backbone strictly against the
detected model, resize the filter bases to the wanted nominal size exactly as upstream
(``MetaFormer.convert_checkpoint``, the code ``init_cfg`` loading uses too), drop the ImageNet
head, and prefix ``backbone.`` where the checkpoint is backbone-only. Neck/head keys of whole
models are kept (their names did not change in mmdet 3.x / mmseg 1.x); the unused ``norm0`` of
an official RetinaNet is dropped, as our RetinaNet backbone returns stages 2-4 only.
"""

from collections import OrderedDict
from typing import Dict, Tuple

import torch

from mmtokenmix.checkpoints.loading import (
    CheckpointMismatchError,
    detect_dense_model,
    extract_state_dict,
    keys_with_prefixes,
    load_state_dict_checked,
    strip_prefix,
)
from mmtokenmix.models.backbones.metaformer import CDFFormer, DFFormer

ARCH_BY_STEM_WIDTH = {64: 's', 96: 'm', 128: 'b'}
CONFIG_PATTERNS = dict(
    retinanet='configs/retinanet_{}_{}_coco.py',
    maskrcnn='configs/maskrcnn_{}_{}_coco.py',
    sfpn='configs/sfpn_{}_{}_ade20k.py',
)


def detect_dfformer(backbone_sd: Dict[str, torch.Tensor]) -> Tuple[str, str, int]:
    """(family ``'dfformer'``/``'cdfformer'``, arch ``'s18'``..., nominal size) of a backbone
    state dict: the stem width gives s/m/b, the block count of stage 2 gives 18/36, the first
    stage's mixer gives the family, and the first filter bases' height ``N // 2**(i+2)`` the
    (square) nominal size ``N``."""
    try:
        width = backbone_sd['downsample_layers.0.conv.weight'].shape[0]
    except KeyError:
        raise CheckpointMismatchError(
            f'not a DFFormer/CDFFormer checkpoint: no downsample_layers.0.conv.weight among '
            f'{list(backbone_sd)[:5]}...'
        )
    if width not in ARCH_BY_STEM_WIDTH:
        raise CheckpointMismatchError(
            f'stem width {width} matches no released DFFormer ({ARCH_BY_STEM_WIDTH})'
        )
    depth2 = len({k.split('.')[2] for k in backbone_sd if k.startswith('stages.1.')})
    family = 'dfformer' if 'stages.0.0.token_mixer.complex_weights' in backbone_sd else 'cdfformer'
    stage = 0 if family == 'dfformer' else 2
    bases = backbone_sd.get(f'stages.{stage}.0.token_mixer.complex_weights')
    if bases is None:
        raise CheckpointMismatchError(
            f'{family}: no stages.{stage}.0.token_mixer.complex_weights in the checkpoint'
        )
    arch = ARCH_BY_STEM_WIDTH[width] + ('18' if depth2 == 3 else '36')
    return family, arch, int(bases.shape[0]) * 2 ** (stage + 2)


def convert_dfformer_checkpoint(
    checkpoint: dict, nominal_size: int = None
) -> Tuple['OrderedDict', dict]:
    """Convert an official ImageNet, backbone-only or whole RetinaNet/Semantic-FPN checkpoint.

    ``nominal_size``: the size to store the filter bases for (default: the checkpoint's own).
    Returns the state dict to save (keys under ``backbone.``, plus the neck/head keys of whole
    models) and an info dict. Raises :class:`CheckpointMismatchError` listing the keys when the
    backbone part does not match the detected model exactly.
    """
    state_dict = extract_state_dict(checkpoint)
    whole_model = any(k.startswith('backbone.') for k in state_dict)
    backbone = strip_prefix(state_dict, 'backbone.') if whole_model else state_dict
    family, arch, stored_size = detect_dfformer(backbone)
    dense_model = detect_dense_model(state_dict) if whole_model else None
    with_norms = tuple(i for i in range(4) if f'norm{i}.weight' in backbone)
    if dense_model == 'retinanet':
        out_indices = (1, 2, 3)  # stage 1 feeds nothing in RetinaNet (FPN start_level 1)
    else:
        out_indices = with_norms or (0, 1, 2, 3)
    model_cls = DFFormer if family == 'dfformer' else CDFFormer
    if nominal_size is None:
        nominal_size = stored_size
    model = model_cls(arch, nominal_size=nominal_size, out_indices=out_indices)
    converted = model.convert_checkpoint(backbone)
    load_state_dict_checked(
        model,
        converted,
        allow_missing=lambda k: not with_norms and k.startswith('norm'),
        allow_unexpected=keys_with_prefixes(model.classifier_prefixes),
        source=f'{family} checkpoint',
    )
    out = OrderedDict(
        ('backbone.' + k, v)
        for k, v in converted.items()
        if not k.startswith(model.classifier_prefixes)
    )
    if whole_model:
        out.update((k, v) for k, v in state_dict.items() if not k.startswith('backbone.'))
    info = dict(
        family=family,
        arch=arch,
        nominal_size=nominal_size,
        stored_size=stored_size,
        whole_model=whole_model,
        model=dense_model,
        out_norm_stages=[i for i in with_norms if i in out_indices],
    )
    return out, info
