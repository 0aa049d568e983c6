# The recipe of segformer_transxnet_t_cityscapes.py with TransXNet-B: drop path 0.3, its ImageNet-1K
# weights and stage widths. No official number exists.
_base_ = ['./segformer_transxnet_t_cityscapes.py']
model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.3,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/transx-b.pth.tar')),
    decode_head=dict(in_channels=[76, 152, 336, 672]))
