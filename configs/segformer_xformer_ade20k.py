# SegFormer's all-MLP decoder on ADE20K with XFormer (reconstruction): the recipe of
# segformer_transxnet_t_ade20k.py (SegFormer-B0's: 160k, AdamW 6e-5, decoder lr x10, poly)
# with the backbone swapped; stages 1-4 (strides 4-32, 64/96/128/160 channels) feed the decoder.
_base_ = [
    './_base_/backbones/xformer_s.py',
    './_base_/models/segformer_head.py',
    './_base_/datasets/ade20k.py',
    './_base_/schedules/segformer_160k.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (512, 512)
model = dict(
    data_preprocessor=dict(_base_.backbone_input_norm, size=crop_size),
    backbone=dict(_base_.backbone, out_indices=(1, 2, 3, 4), init_cfg=_base_.backbone_pretrained),
    decode_head=dict(in_channels=_base_.backbone_widths[1:], num_classes=150))
train_dataloader = dict(batch_size=2, num_workers=2)
