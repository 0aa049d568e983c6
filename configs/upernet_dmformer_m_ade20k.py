# UperNet on ADE20K with DMFormer-M (reconstruction): the recipe of upernet_dmformer_s_ade20k.py.
_base_ = ['./upernet_dmformer_s_ade20k.py']
model = dict(
    backbone=dict(
        arch='m', init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dmformer_m.pth')))
