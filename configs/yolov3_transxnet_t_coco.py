# YOLOv3 on COCO with TransXNet-T, following mmdet 3.3.0's lightweight YOLOv3 recipe
# (yolo/yolov3_mobilenetv2_8xb24-ms-416-300e_coco.py) with the backbone swapped: multi-scale
# 320-416 training, 416 test, 30 epochs over the dataset repeated 10x (300 effective epochs),
# batch 192 (8 GPUs x 24), SGD lr 3e-3, gradient clipping at 35. The backbone starts from the
# official ImageNet-1K weights with drop path 0.1.
_base_ = [
    './_base_/backbones/transxnet_t.py',
    './_base_/models/yolov3.py',
    './_base_/datasets/coco_yolov3_416.py',
    './_base_/schedules/yolov3_sgd_30e.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(1, 2, 3), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=list(reversed(_base_.backbone_widths[1:]))))
