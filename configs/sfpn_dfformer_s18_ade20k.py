# Semantic FPN on ADE20K with DFFormer-S18, official recipe: ImageNet-1K weights (filter bases
# resized 224 -> 512 on loading, as upstream), drop path 0, 40k iterations, batch 32 (8 GPUs
# x 4), AdamW 2e-4 wd 1e-4, poly 0.9; 512x512 crops; test at (2048, 512) keeping the ratio,
# unpadded (the filter bases are resized to every test size), single scale.
_base_ = [
    './_base_/backbones/dfformer_s18.py',
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
