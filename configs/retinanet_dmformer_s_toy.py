# RetinaNet + DMFormer-S trained from scratch on the synthetic toy dataset: the toy recipe of
# retinanet_transxnet_t_toy.py (narrow GroupNorm head, GIoU loss, 12 epochs) with the backbone
# swapped; layer scale starts at 0.1 (1e-5 keeps the blocks silent in a short run from scratch).
_base_ = [
    './_base_/backbones/dmformer_s.py',
    './_base_/models/retinanet_fpn_toy.py',
    './_base_/datasets/toy_detection.py',
    './_base_/schedules/toy_adamw_12e.py'
]
model = dict(
    backbone=dict(
        _base_.backbone, out_indices=(1, 2, 3), layer_scale_init_value=0.1, drop_path_rate=0.0),
    neck=dict(in_channels=_base_.backbone_widths[1:]))
