# RetinaNet 1x on COCO with DMFormer-S (reconstruction; the paper has no COCO results): the
# recipe of retinanet_transxnet_t_coco.py, which is also PoolFormer's RetinaNet recipe (AdamW
# lr 1e-4 wd 1e-4 on every parameter, 12 epochs, batch 16, 1333x800; stage 1 not returned as
# in PoolFormer's start_level=1), with the backbone swapped. ImageNet-1K weights: train
# dmformer_s with timm and save the state dict under checkpoints/. Drop path 0.1 (our choice).
_base_ = [
    './_base_/backbones/dmformer_s.py',
    './_base_/models/retinanet_fpn.py',
    './_base_/datasets/coco_detection.py',
    './_base_/schedules/adamw_1x.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(_base_.backbone, out_indices=(1, 2, 3), init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths[1:]))
