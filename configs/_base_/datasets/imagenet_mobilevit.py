# ImageNet-1K with MobileViT-S's recipe (cvnets), which XFormer follows (its own was not
# published): RandomResizedCrop 256 and flip only; test: short side 288, centre crop 256;
# images in [0, 1] RGB (mean 0, std 255), as MobileViT's weights expect. cvnets' multi-scale
# variable-batch sampler (crops 160-320) has no mmpretrain counterpart and is left out: every
# batch is 256x256. 128 images per GPU (8 GPUs: 1024).
_base_ = './imagenet_randaug.py'
data_preprocessor = dict(mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0], to_rgb=True)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=256, backend='pillow', interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=288, edge='short', backend='pillow', interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=256),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
