# The recipe of sfpn_dfformer_s18_ade20k.py with DFFormer-S36 and its ImageNet-1K weights.
_base_ = ['./sfpn_dfformer_s18_ade20k.py']
model = dict(
    backbone=dict(
        arch='s36',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dfformer_s36.pth')),
    neck=dict(in_channels=[64, 128, 320, 512]))
