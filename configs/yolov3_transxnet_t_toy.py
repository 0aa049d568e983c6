# YOLOv3 + TransXNet-T trained from scratch on the synthetic toy dataset (python
# tools/make_toy_data.py) on CPU, then COCO bbox evaluation. The backbone is the full
# TransXNet-T (layer scale starting at 0.1); neck and head are those of the COCO config with
# 3 classes and anchors from a k-means of the toy boxes (25-72 px on 128x128 images). Like
# the other toy configs it trains with AdamW, not the COCO recipe's SGD.
_base_ = [
    './_base_/backbones/transxnet_t.py',
    './_base_/models/yolov3_toy.py',
    './_base_/datasets/toy_detection.py',
    './_base_/schedules/toy_adamw_12e.py'
]
model = dict(
    backbone=dict(
        _base_.backbone, out_indices=(1, 2, 3), layer_scale_init_value=0.1, drop_path_rate=0.0),
    neck=dict(in_channels=list(reversed(_base_.backbone_widths[1:]))))

max_epochs = 9
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs)
]
