# The recipe of sfpn_dfformer_s18_ade20k.py with CDFFormer-S18 and its ImageNet-1K weights.
_base_ = ['./sfpn_dfformer_s18_ade20k.py']
model = dict(
    backbone=dict(
        type='mmtokenmix.CDFFormer',
        arch='s18',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/cdfformer_s18.pth')),
    neck=dict(in_channels=[64, 128, 320, 512]))
