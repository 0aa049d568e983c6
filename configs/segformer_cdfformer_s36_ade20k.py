# The recipe of segformer_dfformer_s18_ade20k.py with CDFFormer-S36 and its ImageNet-1K weights.
_base_ = ['./segformer_dfformer_s18_ade20k.py']
model = dict(
    backbone=dict(
        type='mmtokenmix.CDFFormer',
        arch='s36',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/cdfformer_s36.pth')),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
