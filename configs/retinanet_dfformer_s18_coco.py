# RetinaNet 1x on COCO with DFFormer-S18, official recipe: ImageNet-1K weights (filter bases
# resized 224 -> 800 on loading, as upstream), drop path 0, AdamW lr 1e-4 wd 0.05 with no
# parameter-wise exemption (upstream decays norms, res scales and filter bases too), 12 epochs,
# batch 16 (8 GPUs x 2), 1333x800, mixed precision (upstream: apex O1; here autocast AMP,
# the FFT path stays float32; on a CPU-only machine the tools train in float32).
_base_ = [
    './_base_/backbones/dfformer_s18.py',
    './_base_/models/retinanet_fpn.py',
    './_base_/datasets/coco_detection.py',
    './_base_/schedules/adamw_1x.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(
        _base_.backbone, out_indices=(1, 2, 3), nominal_size=800,
        init_cfg=_base_.backbone_pretrained),
    neck=dict(in_channels=_base_.backbone_widths[1:]))
optim_wrapper = dict(type='AmpOptimWrapper', loss_scale='dynamic',
                     optimizer=dict(weight_decay=0.05))
