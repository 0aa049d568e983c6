# The recipe of sfpn_transxnet_t_ade20k.py with TransXNet-B: drop path 0.3, its ImageNet-1K
# weights and stage widths. Official mIoU 49.9.
_base_ = [
    './_base_/backbones/transxnet_b.py',
    './_base_/models/sfpn.py',
    './_base_/datasets/ade20k_aligned_test.py',
    './_base_/schedules/sfpn_80k.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(_base_.backbone, out_indices=(0, 1, 2, 3), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths))
