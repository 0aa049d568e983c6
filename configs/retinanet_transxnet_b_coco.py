# RetinaNet 1x on COCO with TransXNet-B, official recipe: ImageNet-1K weights, drop path 0.3,
# AdamW lr 1e-4 wd 1e-4 with no parameter-wise exemption (upstream decays everything here),
# 12 epochs, batch 16 (8 GPUs x 2), 1333x800, no multi-scale. Official box AP: 47.6.
_base_ = [
    './_base_/models/retinanet_transxnet_fpn.py', './_base_/datasets/coco_detection.py',
    './_base_/schedules/adamw_1x.py', './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(
        arch='b',
        drop_path_rate=0.3,
        # the official ImageNet file (TransXNet v1.0 release), saved under checkpoints/
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/transx-b.pth.tar')),
    neck=dict(in_channels=[152, 336, 672]))
