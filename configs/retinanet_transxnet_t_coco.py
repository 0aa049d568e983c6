# RetinaNet 1x on COCO with TransXNet-T, official recipe: ImageNet-1K weights, drop path 0.1,
# AdamW lr 1e-4 wd 1e-4 with no parameter-wise exemption (upstream decays everything here),
# 12 epochs, batch 16 (8 GPUs x 2), 1333x800, no multi-scale. Official box AP: 43.1.
_base_ = [
    './_base_/backbones/transxnet_t.py',
    './_base_/models/retinanet_fpn.py',
    './_base_/datasets/coco_detection.py',
    './_base_/schedules/adamw_1x.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(1, 2, 3), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths[1:]))
