# The recipe of segformer_dfformer_s18_cityscapes.py with CDFFormer-S18 and its ImageNet-1K weights.
_base_ = ['./segformer_dfformer_s18_cityscapes.py']
model = dict(
    backbone=dict(
        type='mmtokenmix.CDFFormer',
        arch='s18',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/cdfformer_s18.pth')),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
