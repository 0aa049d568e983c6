# ImageNet-1K classification with DFFormer-M36 through mmpretrain (its tools/train.py, or
# mim train mmpretrain), the official timm recipe: AdamW lr 1e-3 for batch 1024, 20 warm-up
# epochs, 300 + 10 epochs, RandAugment, Mixup/CutMix, random erasing, label smoothing, no EMA,
# test crop_pct 1.0; drop path 0.4 (not published: MetaFormer's ConvFormer value). Filter
# bases stored for 224.
_base_ = [
    './_base_/backbones/dfformer_m36.py',
    './_base_/models/classifier.py',
    './_base_/datasets/imagenet_randaug_crop1.0.py',
    './_base_/schedules/imagenet_adamw_300e_warmup20.py',
    './_base_/default_runtime_cls.py'
]
model = dict(
    backbone=dict(
        _base_.backbone,
        nominal_size=224,
        out_indices=(3, ),
        out_norm_cfg=None,
        drop_path_rate=0.4),
    head=dict(type='mmtokenmix.MetaFormerClsHead', in_channels=_base_.backbone_widths[-1]))
