# YOLOv3 on COCO with XFormer (reconstruction), the lightweight recipe of yolov3_transxnet_t_coco.py
# (mmdet 3.3.0's yolov3_mobilenetv2_8xb24-ms-416-300e_coco.py: multi-scale 320-416, 416 test, 300
# effective epochs, batch 192, SGD 3e-3) with the backbone swapped. The neck takes stages 2-4
# (strides 8/16/32; 96/128/160 channels, C5 without MobileViT's 640 expansion), deepest first.
_base_ = [
    './_base_/backbones/xformer_s.py',
    './_base_/models/yolov3.py',
    './_base_/datasets/coco_yolov3_416.py',
    './_base_/schedules/yolov3_sgd_30e.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    data_preprocessor=_base_.backbone_input_norm,
    backbone=dict(_base_.backbone, out_indices=(2, 3, 4), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=list(reversed(_base_.backbone_widths[2:]))))
