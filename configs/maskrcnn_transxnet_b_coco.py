# The recipe of maskrcnn_transxnet_t_coco.py with TransXNet-B: drop path 0.3, its ImageNet-1K
# weights and stage widths. Official box / mask AP 48.8 / 43.8.
_base_ = ['./maskrcnn_transxnet_t_coco.py']
model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/transx-b.pth.tar')),
    neck=dict(in_channels=[76, 152, 336, 672]))
