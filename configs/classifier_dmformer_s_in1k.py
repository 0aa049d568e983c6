# ImageNet-1K classification with DMFormer-S through mmpretrain (its tools/train.py, or
# mim train mmpretrain). The paper gives 300 epochs, batch 1024, lr 1e-3, cosine (PoolFormer's
# recipe); the rest is PoolFormer's: AdamW wd 0.05, 5 warm-up epochs, RandAugment,
# Mixup/CutMix, random erasing, label smoothing, no EMA, and the drop path (0.1) and test
# crop_pct (0.9) of PoolFormer-S24, the PoolFormer of this variant's size.
_base_ = [
    './_base_/backbones/dmformer_s.py',
    './_base_/models/classifier.py',
    './_base_/datasets/imagenet_randaug.py',
    './_base_/schedules/imagenet_adamw_300e.py',
    './_base_/default_runtime_cls.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(3, ), out_norm_cfg=None, drop_path_rate=0.1),
    head=dict(type='mmtokenmix.NormPoolLinearClsHead', in_channels=_base_.backbone_widths[-1]))
