# The recipe of maskrcnn_dfformer_s18_coco.py with CDFFormer-S36 and its ImageNet-1K weights.
_base_ = [
    './_base_/backbones/cdfformer_s36.py',
    './_base_/models/mask_rcnn_fpn.py',
    './_base_/datasets/coco_instance.py',
    './_base_/schedules/adamw_1x.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(
        _base_.backbone, out_indices=(0, 1, 2, 3), nominal_size=800,
        init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic',
                     optimizer=dict(weight_decay=0.05))
