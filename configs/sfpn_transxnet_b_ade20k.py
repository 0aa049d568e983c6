# The recipe of sfpn_transxnet_t_ade20k.py with TransXNet-B: drop path 0.3, its ImageNet-1K
# weights and stage widths. Official mIoU 49.9.
_base_ = ['./sfpn_transxnet_t_ade20k.py']
model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/transx-b.pth.tar')),
    neck=dict(in_channels=[76, 152, 336, 672]))
