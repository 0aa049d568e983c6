# Mask R-CNN 1x on COCO with TransXNet-T, official recipe: ImageNet-1K weights, drop path
# 0.1, AdamW lr 1e-4 wd 0.05, 12 epochs, batch 16 (8 GPUs x 2), 1333x800, no multi-scale.
# Official box / mask AP: 44.5 / 40.7.
_base_ = [
    './_base_/backbones/transxnet_t.py',
    './_base_/models/mask_rcnn_fpn.py',
    './_base_/datasets/coco_instance.py',
    './_base_/schedules/adamw_1x.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(0, 1, 2, 3), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths))
optim_wrapper = dict(
    optimizer=dict(weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
