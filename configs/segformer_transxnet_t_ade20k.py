# SegFormer's all-MLP decoder on ADE20K with TransXNet-T: ImageNet-1K weights, drop path
# 0.1, SegFormer's recipe (160k iterations, batch 16 = 8 GPUs x 2, AdamW 6e-5, decoder lr
# x10, poly), 512x512 crops, single-scale whole-image test. No official number exists.
_base_ = [
    './_base_/backbones/transxnet_t.py',
    './_base_/models/segformer_head.py',
    './_base_/datasets/ade20k.py',
    './_base_/schedules/segformer_160k.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(_base_.backbone, out_indices=(0, 1, 2, 3), init_cfg=_base_.backbone_pretrained),
    decode_head=dict(in_channels=_base_.backbone_widths, num_classes=150))
train_dataloader = dict(batch_size=2, num_workers=2)
