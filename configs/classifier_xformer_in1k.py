# ImageNet-1K classification with XFormer through mmpretrain (its tools/train.py, or mim train
# mmpretrain). XFormer's own recipe was not published; this is MobileViT-S's (cvnets), whose
# skeleton XFormer shares: 256x256 crops and flips only, no Mixup/CutMix, label smoothing 0.1,
# AdamW wd 0.01 on everything, lr 2e-3 for batch 1024 with 20k warm-up iterations, cosine to
# 2e-4 over 300 epochs, EMA momentum 5e-4. The head is MobileViT-S's: the 1x1 expansion to
# 640 (in the backbone, last_exp_factor=4), pool, dropout 0.1, linear.
_base_ = [
    './_base_/backbones/xformer_s.py',
    './_base_/models/classifier.py',
    './_base_/datasets/imagenet_mobilevit.py',
    './_base_/schedules/imagenet_mobilevit_300e.py',
    './_base_/default_runtime_cls.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(4, ), last_exp_factor=4),
    head=dict(
        type='mmtokenmix.NormPoolLinearClsHead',
        in_channels=4 * _base_.backbone_widths[-1],
        norm_cfg=None,
        dropout=0.1),
    train_cfg=None)
