# The recipe of retinanet_transxnet_t_coco.py with TransXNet-B: drop path 0.3, its ImageNet-1K
# weights and stage widths. Official box AP 47.6.
_base_ = [
    './_base_/backbones/transxnet_b.py',
    './_base_/models/retinanet_fpn.py',
    './_base_/datasets/coco_detection.py',
    './_base_/schedules/adamw_1x.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(1, 2, 3), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths[1:]))
