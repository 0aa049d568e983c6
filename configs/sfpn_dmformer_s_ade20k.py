# Semantic FPN on ADE20K with DMFormer-S (reconstruction), the paper's recipe (docs/dmformer.md):
# ImageNet-1K weights (none are published: train dmformer_s with timm and save the state dict
# under checkpoints/), 40k iterations, batch 16 (8 GPUs x 2, the paper's note; PoolFormer used
# 32), AdamW lr 2e-4 wd 1e-4, poly 0.9; 512x512 crops; single-scale test at (2048, 512).
# Drop path 0.1 is our choice (not given).
_base_ = [
    './_base_/backbones/dmformer_s.py',
    './_base_/models/sfpn.py',
    './_base_/datasets/ade20k.py',
    './_base_/schedules/sfpn_40k.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(_base_.backbone, out_indices=(0, 1, 2, 3), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths))
train_dataloader = dict(batch_size=2)
