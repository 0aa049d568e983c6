# Semantic FPN on ADE20K with DMFormer-M (reconstruction): the recipe of sfpn_dmformer_s_ade20k.py.
_base_ = ['./sfpn_dmformer_s_ade20k.py']
model = dict(
    backbone=dict(
        arch='m', init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dmformer_m.pth')))
