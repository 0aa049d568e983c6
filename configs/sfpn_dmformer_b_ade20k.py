# Semantic FPN on ADE20K with DMFormer-B (reconstruction): the recipe of sfpn_dmformer_s_ade20k.py.
_base_ = ['./sfpn_dmformer_s_ade20k.py']
model = dict(
    backbone=dict(
        arch='b', init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dmformer_b.pth')),
    neck=dict(in_channels=[96, 192, 384, 768]))
