# SegFormer's all-MLP decoder on ADE20K with TransXNet-T: ImageNet-1K weights, drop path
# 0.1, SegFormer's recipe (160k iterations, batch 16 = 8 GPUs x 2, AdamW 6e-5, decoder lr
# x10, poly), 512x512 crops, single-scale whole-image test. No official number exists.
_base_ = [
    './_base_/models/segformer_transxnet.py', './_base_/datasets/ade20k.py',
    './_base_/schedules/segformer_160k.py', './_base_/default_runtime_seg.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch='t',
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/transx-t.pth.tar')),
    decode_head=dict(in_channels=[48, 96, 224, 448], num_classes=150))
train_dataloader = dict(batch_size=2, num_workers=2)
