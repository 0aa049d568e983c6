# Mask R-CNN 1x on COCO with DMFormer-S (reconstruction; the paper has no COCO results): the
# Mask R-CNN of maskrcnn_transxnet_t_coco.py with the backbone swapped and PoolFormer's Mask
# R-CNN optimiser (AdamW lr 2e-4 wd 1e-4 on every parameter), 12 epochs, batch 16, 1333x800.
# ImageNet-1K weights: train dmformer_s with timm and save the state dict under checkpoints/.
# Drop path 0.1 (our choice).
_base_ = [
    './_base_/backbones/dmformer_s.py',
    './_base_/models/mask_rcnn_fpn.py',
    './_base_/datasets/coco_instance.py',
    './_base_/schedules/adamw_1x.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(0, 1, 2, 3), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths))
optim_wrapper = dict(optimizer=dict(lr=0.0002, weight_decay=0.0001))
