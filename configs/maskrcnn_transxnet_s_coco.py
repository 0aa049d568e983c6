# The recipe of maskrcnn_transxnet_t_coco.py with TransXNet-S: drop path 0.2, its ImageNet-1K
# weights and stage widths. Official box / mask AP 47.7 / 43.1.
_base_ = ['./maskrcnn_transxnet_t_coco.py']
model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/transx-s.pth.tar')),
    neck=dict(in_channels=[64, 128, 320, 512]))
