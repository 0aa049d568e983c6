# SegFormer's all-MLP decoder + CDFFormer-S18 trained from scratch on the synthetic toy
# dataset: the toy recipe of segformer_transxnet_t_toy.py (128-wide decoder, 600 iterations of
# 128x128 crops) with the backbone swapped. Filter bases stored for 128x128 inputs.
_base_ = [
    './_base_/backbones/cdfformer_s18.py',
    './_base_/models/segformer_head_toy.py',
    './_base_/datasets/toy_segmentation.py',
    './_base_/schedules/segformer_toy_600it.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(_base_.backbone, out_indices=(0, 1, 2, 3), nominal_size=128),
    decode_head=dict(in_channels=_base_.backbone_widths))
