# YOLOv3 on COCO with TransXNet-T at a single 320x320 scale, following mmdet 3.3.0's
# yolo/yolov3_mobilenetv2_8xb24-320-300e_coco.py: the multi-scale config with 320 pipelines
# and anchors re-clustered for 320.
_base_ = [
    './_base_/backbones/transxnet_t.py',
    './_base_/models/yolov3_320.py',
    './_base_/datasets/coco_yolov3_320.py',
    './_base_/schedules/yolov3_sgd_30e.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(1, 2, 3), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=list(reversed(_base_.backbone_widths[1:]))))
