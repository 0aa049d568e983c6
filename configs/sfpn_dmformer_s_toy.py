# Semantic FPN + DMFormer-S trained from scratch on the synthetic toy dataset: the data and
# 600-iteration schedule of the toy segmentation configs (128x128 crops, AdamW, no
# parameter-wise rules, as the Semantic FPN recipes) with the Semantic FPN decoder of the
# paper's ADE20K setting (64-wide FPN, 64-channel FPNHead); layer scale starts at 0.1 (1e-5
# keeps the blocks silent in a short run from scratch).
_base_ = [
    './_base_/backbones/dmformer_s.py',
    './_base_/models/sfpn_toy.py',
    './_base_/datasets/toy_segmentation.py',
    './_base_/schedules/toy_seg_600it.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _base_.backbone, out_indices=(0, 1, 2, 3), layer_scale_init_value=0.1, drop_path_rate=0.0),
    neck=dict(in_channels=_base_.backbone_widths))
