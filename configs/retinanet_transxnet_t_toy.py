# The bundled default job: RetinaNet + TransXNet-T trained from scratch on the synthetic toy
# dataset (python tools/make_toy_data.py), on CPU in a few minutes, then COCO bbox evaluation.
# The backbone is the full TransXNet-T; the neck/head are narrower, and the head uses GroupNorm
# and a GIoU box loss, which train much faster from scratch than the stock RetinaHead.
_base_ = [
    './_base_/backbones/transxnet_t.py',
    './_base_/models/retinanet_fpn_toy.py',
    './_base_/datasets/toy_detection.py',
    './_base_/schedules/toy_adamw_12e.py'
]
model = dict(
    backbone=dict(
        _base_.backbone, out_indices=(1, 2, 3), layer_scale_init_value=0.1, drop_path_rate=0.0),
    neck=dict(in_channels=_base_.backbone_widths[1:]))
