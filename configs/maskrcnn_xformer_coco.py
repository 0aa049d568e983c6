# Mask R-CNN 1x on COCO with XFormer (reconstruction), for completeness: the recipe of
# maskrcnn_transxnet_t_coco.py with the backbone swapped.
_base_ = [
    './_base_/backbones/xformer_s.py',
    './_base_/models/mask_rcnn_fpn.py',
    './_base_/datasets/coco_instance.py',
    './_base_/schedules/adamw_1x.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    data_preprocessor=_base_.backbone_input_norm,
    backbone=dict(_base_.backbone, out_indices=(1, 2, 3, 4), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths[1:]))
optim_wrapper = dict(
    optimizer=dict(weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
