# YOLOv3 on COCO with XFormer at a single 320x320 scale (the paper's implied setting: 33.2 AP,
# 6.3M params, 3.8G FLOPs): yolov3-320_transxnet_t_coco.py (mmdet's 320 recipe and anchors) with
# the backbone of yolov3_xformer_coco.py.
_base_ = [
    './_base_/backbones/xformer_s.py',
    './_base_/models/yolov3_320.py',
    './_base_/datasets/coco_yolov3_320.py',
    './_base_/schedules/yolov3_sgd_30e.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    data_preprocessor=_base_.backbone_input_norm,
    backbone=dict(_base_.backbone, out_indices=(2, 3, 4), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=list(reversed(_base_.backbone_widths[2:]))))
