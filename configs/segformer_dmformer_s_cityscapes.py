# SegFormer's all-MLP decoder on Cityscapes with DMFormer-S (reconstruction): the recipe of
# segformer_transxnet_t_cityscapes.py (SegFormer's) with the backbone swapped. ImageNet-1K weights
# (none are published: train dmformer_s with timm, save under checkpoints/), drop path 0.1.
# The paper reports no such number.
_base_ = [
    './_base_/backbones/dmformer_s.py',
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
