# The recipe of segformer_dfformer_s18_ade20k.py with CDFFormer-M36 and its ImageNet-1K weights.
_base_ = ['./segformer_dfformer_s18_ade20k.py']
model = dict(
    backbone=dict(
        type='mmtokenmix.CDFFormer',
        arch='m36',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/cdfformer_m36.pth')),
    decode_head=dict(in_channels=[96, 192, 384, 576]))
