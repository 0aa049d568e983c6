# YOLOv3 + XFormer trained from scratch on the synthetic toy dataset: the toy recipe of
# yolov3_transxnet_t_toy.py (COCO neck/head, 3 classes, toy anchors, AdamW) with the backbone
# swapped (no pretrained weights).
_base_ = [
    './_base_/backbones/xformer_s.py',
    './_base_/models/yolov3_toy.py',
    './_base_/datasets/toy_detection.py',
    './_base_/schedules/toy_adamw_12e.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(2, 3, 4)),
    neck=dict(in_channels=list(reversed(_base_.backbone_widths[2:]))))

max_epochs = 9
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs)
]
