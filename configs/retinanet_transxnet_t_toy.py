# The bundled default job: RetinaNet + TransXNet-T trained from scratch on the synthetic toy
# dataset (python tools/make_toy_data.py), on CPU in a few minutes, then COCO bbox evaluation.
# The backbone is the full TransXNet-T; the neck/head are narrower, and the head uses GroupNorm
# and a GIoU box loss, which train much faster from scratch than the stock RetinaHead.
_base_ = [
    './_base_/models/retinanet_transxnet_fpn.py', './_base_/datasets/toy_detection.py',
    './_base_/default_runtime_det.py'
]
model = dict(
    backbone=dict(
        # TransXNet-T exactly, but with layer scale initialised at 0.1 instead of 1e-5: from
        # scratch, 1e-5 keeps the residual branches silent for most of a short CPU run
        arch=dict(_delete_=True, layers=[3, 3, 9, 3], embed_dims=[48, 96, 224, 448],
                  num_groups=[2, 2, 2, 2],
                  sr_ratio=[8, 4, 2, 1], num_heads=[1, 2, 4, 8], layer_scale_init_value=0.1),
        drop_path_rate=0.0),
    neck=dict(out_channels=64),
    bbox_head=dict(
        num_classes=3,
        in_channels=64,
        feat_channels=64,
        stacked_convs=2,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        reg_decoded_bbox=True,
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0)))

max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs)
]
# from scratch on a few hundred images: a larger lr than the COCO fine-tuning recipe
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=10.0))
auto_scale_lr = dict(enable=False, base_batch_size=4)
# small batches: more updates for the same compute, which is what a short CPU run lacks
train_dataloader = dict(batch_size=4)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=8),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
    visualization=dict(type='DetVisualizationHook', draw=False))
log_processor = dict(type='LogProcessor', window_size=8, by_epoch=True)
randomness = dict(seed=0)
