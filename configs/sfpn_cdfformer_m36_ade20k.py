# The recipe of sfpn_dfformer_s18_ade20k.py with CDFFormer-M36 and its ImageNet-1K weights.
_base_ = [
    './_base_/backbones/cdfformer_m36.py',
    './_base_/models/sfpn.py',
    './_base_/datasets/ade20k.py',
    './_base_/schedules/sfpn_40k.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _base_.backbone, out_indices=(0, 1, 2, 3), nominal_size=512,
        init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths))
