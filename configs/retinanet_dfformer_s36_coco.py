# The recipe of retinanet_dfformer_s18_coco.py with DFFormer-S36 and its ImageNet-1K weights.
_base_ = ['./retinanet_dfformer_s18_coco.py']
model = dict(
    backbone=dict(
        arch='s36',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dfformer_s36.pth')),
    neck=dict(in_channels=[128, 320, 512]))
