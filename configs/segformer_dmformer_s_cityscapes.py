# SegFormer's all-MLP decoder on Cityscapes with DMFormer-S (reconstruction): the recipe of
# segformer_transxnet_t_cityscapes.py (SegFormer's) with the backbone swapped. ImageNet-1K weights
# (none are published: train dmformer_s with timm, save under checkpoints/), drop path 0.1.
# The paper reports no such number.
_base_ = ['./segformer_transxnet_t_cityscapes.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DMFormer',
        arch='s',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dmformer_s.pth')),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
