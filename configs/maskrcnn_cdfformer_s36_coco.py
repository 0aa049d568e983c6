# The recipe of maskrcnn_dfformer_s18_coco.py with CDFFormer-S36 and its ImageNet-1K weights.
_base_ = ['./maskrcnn_dfformer_s18_coco.py']
model = dict(
    backbone=dict(
        type='mmtokenmix.CDFFormer',
        arch='s36',
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/cdfformer_s36.pth')),
    neck=dict(in_channels=[64, 128, 320, 512]))
