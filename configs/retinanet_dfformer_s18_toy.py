# RetinaNet + DFFormer-S18 trained from scratch on the synthetic toy dataset: the toy recipe of
# retinanet_transxnet_t_toy.py (narrow GroupNorm head, GIoU loss, 12 epochs) with the backbone
# swapped. Filter bases stored for the toy's 128x128 images.
_base_ = [
    './_base_/backbones/dfformer_s18.py',
    './_base_/models/retinanet_fpn_toy.py',
    './_base_/datasets/toy_detection.py',
    './_base_/schedules/toy_adamw_12e.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(1, 2, 3), nominal_size=128),
    neck=dict(in_channels=_base_.backbone_widths[1:]))
