# YOLOv3 + XFormer trained from scratch on the synthetic toy dataset: the toy recipe of
# yolov3_transxnet_t_toy.py (COCO neck/head, 3 classes, toy anchors, AdamW) with the backbone
# swapped (no pretrained weights).
_base_ = ['./yolov3_transxnet_t_toy.py']
model = dict(
    backbone=dict(_delete_=True, type='mmtokenmix.XFormer', arch='s', out_indices=(2, 3, 4)),
    neck=dict(in_channels=[160, 128, 96]))
