# Mask R-CNN 1x on COCO with TransXNet-T, official recipe: ImageNet-1K weights, drop path
# 0.1, AdamW lr 1e-4 wd 0.05, 12 epochs, batch 16 (8 GPUs x 2), 1333x800, no multi-scale.
# Official box / mask AP: 44.5 / 40.7.
_base_ = [
    './_base_/models/mask_rcnn_transxnet_fpn.py', './_base_/datasets/coco_instance.py',
    './_base_/schedules/adamw_1x.py', './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(
        arch='t',
        drop_path_rate=0.1,
        # the official ImageNet file (TransXNet v1.0 release), saved under checkpoints/
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/transx-t.pth.tar')),
    neck=dict(in_channels=[48, 96, 224, 448]))

# No weight decay exactly where upstream has none: parameters whose name contains 'norm', i.e.
# the GroupNorms norm1/norm2, the MS-FFN's mlp.norm BN and the output norms norm0/2/4/6.
# Upstream's other two keys (absolute_pos_embed, relative_position_bias_table) match nothing in
# TransXNet and are left out. Still decayed, as upstream: relative_pos_enc, layer scales, the
# BNs named *.bn / proj.N / fc1.2 / fc2.1, and all biases.
optim_wrapper = dict(
    optimizer=dict(weight_decay=0.05),
    paramwise_cfg=dict(custom_keys={'norm': dict(decay_mult=0.)}))
