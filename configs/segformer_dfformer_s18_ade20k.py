# SegFormer's all-MLP decoder on ADE20K with DFFormer-S18: ImageNet-1K weights (filter bases
# resized 224 -> 512), drop path 0 (as the official DFFormer dense models), SegFormer's recipe
# (160k iterations, batch 16 = 8 GPUs x 2, AdamW 6e-5, decoder lr x10, poly), 512x512 crops,
# single-scale whole-image test. No official number exists.
_base_ = [
    './_base_/models/segformer_dfformer.py', './_base_/datasets/ade20k.py',
    './_base_/schedules/segformer_160k.py', './_base_/default_runtime_seg.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='s18',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dfformer_s18.pth')),
    decode_head=dict(in_channels=[64, 128, 320, 512], num_classes=150))
train_dataloader = dict(batch_size=2, num_workers=2)
