# mmpretrain's ImageClassifier for our backbones: no neck (the heads normalise and pool the
# last map themselves, see mmtokenmix/models/classifiers/mmpretrain_heads.py), label smoothing
# 0.1 and Mixup 0.8 / CutMix 1.0 batch augmentation as in the timm recipes of TransXNet,
# DFFormer and PoolFormer (one of the two per batch, as timm's switch probability 0.5). A leaf
# sets the backbone (out_indices: the last stage only, no output norms) and the head type.
model = dict(
    type='ImageClassifier',
    neck=None,
    head=dict(
        num_classes=1000,
        loss=dict(type='LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
        topk=(1, 5)),
    train_cfg=dict(augments=[dict(type='Mixup', alpha=0.8), dict(type='CutMix', alpha=1.0)]))
