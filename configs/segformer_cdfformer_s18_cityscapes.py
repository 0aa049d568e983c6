# The recipe of segformer_dfformer_s18_cityscapes.py with CDFFormer-S18 and its ImageNet-1K weights.
_base_ = [
    './_base_/backbones/cdfformer_s18.py',
    './_base_/models/segformer_head.py',
    './_base_/datasets/cityscapes_1024x1024.py',
    './_base_/schedules/segformer_160k.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (1024, 1024)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _base_.backbone, out_indices=(0, 1, 2, 3), nominal_size=1024,
        init_cfg=_base_.backbone_pretrained),
    decode_head=dict(in_channels=_base_.backbone_widths, num_classes=19),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(768, 768)))
train_dataloader = dict(batch_size=1, num_workers=4)
val_dataloader = dict(batch_size=1, num_workers=4)
test_dataloader = val_dataloader
