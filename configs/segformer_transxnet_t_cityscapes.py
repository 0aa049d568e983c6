# SegFormer's all-MLP decoder on Cityscapes with TransXNet-T: ImageNet-1K weights, drop
# path 0.1, SegFormer's recipe (160k iterations, batch 8 = 8 GPUs x 1, AdamW 6e-5, decoder
# lr x10, poly), 1024x1024 crops; test on the full 2048x1024 frames with 1024x1024 sliding
# windows (stride 768). No official number exists.
_base_ = [
    './_base_/backbones/transxnet_t.py',
    './_base_/models/segformer_head.py',
    './_base_/datasets/cityscapes_1024x1024.py',
    './_base_/schedules/segformer_160k.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (1024, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(_base_.backbone, out_indices=(0, 1, 2, 3), init_cfg=_base_.backbone_pretrained),
    decode_head=dict(in_channels=_base_.backbone_widths, num_classes=19),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(768, 768)))
train_dataloader = dict(batch_size=1, num_workers=4)
val_dataloader = dict(batch_size=1, num_workers=4)
test_dataloader = val_dataloader
