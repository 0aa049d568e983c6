# ImageNet-1K classification with TransXNet-B through mmpretrain (its tools/train.py, or
# mim train mmpretrain), the official timm recipe: AdamW lr 2e-3 for batch 1024, 5 warm-up
# epochs, 300 + 10 epochs, RandAugment, Mixup/CutMix, random erasing, label smoothing, drop
# path 0.4, model EMA (decay 0.99985), test crop_pct 0.95. Official top-1: see docs/model_zoo.md.
_base_ = [
    './_base_/backbones/transxnet_b.py',
    './_base_/models/classifier.py',
    './_base_/datasets/imagenet_randaug_crop0.95.py',
    './_base_/schedules/imagenet_adamw_300e.py',
    './_base_/default_runtime_cls.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(3, ), out_norm_cfg=None, drop_path_rate=0.4),
    head=dict(type='mmtokenmix.NormPoolLinearClsHead', in_channels=_base_.backbone_widths[-1]))
optim_wrapper = dict(optimizer=dict(lr=2e-3))
custom_hooks = [dict(type='EMAHook', momentum=0.00015, priority='ABOVE_NORMAL')]
