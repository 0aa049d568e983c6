# Semantic FPN on ADE20K with DFFormer-S18, official recipe: ImageNet-1K weights (filter bases
# resized 224 -> 512 on loading, as upstream), drop path 0, 40k iterations, batch 32 (8 GPUs
# x 4), AdamW 2e-4 wd 1e-4, poly 0.9; 512x512 crops; test at (2048, 512) keeping the ratio,
# unpadded (the filter bases are resized to every test size), single scale.
_base_ = [
    './_base_/models/sfpn_dfformer.py', './_base_/datasets/ade20k.py',
    './_base_/schedules/sfpn_40k.py', './_base_/default_runtime_seg.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='s18',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dfformer_s18.pth')),
    neck=dict(in_channels=[64, 128, 320, 512]))
