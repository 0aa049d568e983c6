# The recipe of retinanet_transxnet_t_coco.py with TransXNet-S: drop path 0.2, its ImageNet-1K
# weights and stage widths. Official box AP 46.4.
_base_ = ['./retinanet_transxnet_t_coco.py']
model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/transx-s.pth.tar')),
    neck=dict(in_channels=[128, 320, 512]))
