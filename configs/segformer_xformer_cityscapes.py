# SegFormer's all-MLP decoder on Cityscapes with XFormer (reconstruction): the recipe of
# segformer_transxnet_t_cityscapes.py (SegFormer-B0's: 160k, AdamW 6e-5, decoder lr x10, poly,
# 1024 crops, slide test) with the backbone swapped; stages 1-4 (strides 4-32, 64/96/128/160
# channels) feed the decoder.
_base_ = [
    './_base_/backbones/xformer_s.py',
    './_base_/models/segformer_head.py',
    './_base_/datasets/cityscapes_1024x1024.py',
    './_base_/schedules/segformer_160k.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (1024, 1024)
model = dict(
    data_preprocessor=dict(_base_.backbone_input_norm, size=crop_size),
    backbone=dict(_base_.backbone, out_indices=(1, 2, 3, 4), init_cfg=_base_.backbone_pretrained),
    decode_head=dict(in_channels=_base_.backbone_widths[1:], num_classes=19),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(768, 768)))
train_dataloader = dict(batch_size=1, num_workers=4)
val_dataloader = dict(batch_size=1, num_workers=4)
test_dataloader = val_dataloader
