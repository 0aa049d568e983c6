# The recipe of segformer_transxnet_t_ade20k.py with TransXNet-S: drop path 0.2, its ImageNet-1K
# weights and stage widths. No official number exists.
_base_ = ['./segformer_transxnet_t_ade20k.py']
model = dict(
    backbone=dict(
        arch='s',
        drop_path_rate=0.2,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/transx-s.pth.tar')),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
