# The recipe of maskrcnn_transxnet_t_coco.py with TransXNet-B: drop path 0.3, its ImageNet-1K
# weights and stage widths. Official box / mask AP 48.8 / 43.8.
_base_ = [
    './_base_/backbones/transxnet_b.py',
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
