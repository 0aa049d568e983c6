# Mask R-CNN 1x on COCO with DFFormer-S18. Upstream trained no Mask R-CNN; this applies the
# official DFFormer RetinaNet recipe to mmdet's Mask R-CNN 1x: ImageNet-1K weights (filter
# bases resized 224 -> 800), drop path 0, AdamW lr 1e-4 wd 0.05 on every parameter, 12
# epochs, batch 16 (8 GPUs x 2), 1333x800, mixed precision (float32 FFT; float32 on CPU).
_base_ = [
    './_base_/backbones/dfformer_s18.py',
    './_base_/models/mask_rcnn_fpn.py',
    './_base_/datasets/coco_instance.py',
    './_base_/schedules/adamw_1x.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(
        _base_.backbone, out_indices=(0, 1, 2, 3), nominal_size=800,
        init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic',
                     optimizer=dict(weight_decay=0.05))
