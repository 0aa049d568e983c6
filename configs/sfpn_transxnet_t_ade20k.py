# Semantic FPN on ADE20K with TransXNet-T, official recipe: ImageNet-1K weights, drop path
# 0.1, 80k iterations, batch 32 (8 GPUs x 4), AdamW 2e-4, cosine; 512x512 crops; test at
# (2048, 512) rescaled and stretched to multiples of 32 (the official test resize),
# single scale. Official mIoU: 45.5.
_base_ = [
    './_base_/backbones/transxnet_t.py',
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
