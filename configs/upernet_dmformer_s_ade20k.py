# UperNet on ADE20K with DMFormer-S (reconstruction), the paper's recipe (Swin's; docs/dmformer.md):
# ImageNet-1K weights (none are published: train dmformer_s with timm and save the state dict
# under checkpoints/), 160k iterations, batch 16 (8 GPUs x 2), AdamW lr 6e-5 wd 0.01 (none on
# norms), 1500-iteration warm-up, linear decay; auxiliary FCN head 0.4; 512x512 crops;
# single-scale test at (2048, 512). Drop path 0.1 is our choice (not given).
_base_ = [
    './_base_/backbones/dmformer_s.py',
    './_base_/models/upernet.py',
    './_base_/datasets/ade20k.py',
    './_base_/schedules/upernet_160k.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(_base_.backbone, out_indices=(0, 1, 2, 3), init_cfg=_base_.backbone_pretrained),
    decode_head=dict(in_channels=_base_.backbone_widths),
    auxiliary_head=dict(in_channels=_base_.backbone_widths[2]))
train_dataloader = dict(batch_size=2)
