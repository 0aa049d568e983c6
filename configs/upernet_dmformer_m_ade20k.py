# UperNet on ADE20K with DMFormer-M (reconstruction): the recipe of upernet_dmformer_s_ade20k.py.
_base_ = [
    './_base_/backbones/dmformer_m.py',
    './_base_/models/upernet.py',
    './_base_/datasets/ade20k.py',
    './_base_/schedules/upernet_160k.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(_base_.backbone, out_indices=(0, 1, 2, 3), init_cfg=_base_.backbone_pretrained),
    decode_head=dict(in_channels=_base_.backbone_widths),
    auxiliary_head=dict(in_channels=_base_.backbone_widths[2]))
train_dataloader = dict(batch_size=2)
