# Training from scratch on the toy dataset on CPU: 12 epochs, AdamW lr 1e-3
# (a larger lr than the COCO fine-tuning recipes: no pretrained weights, few hundred images),
# short warm-up then cosine, gradient clipping; evaluate once, at the end. Includes the mmdet
# runtime, because it changes its hooks (less logging, no drawing, keep two checkpoints).
_base_ = ['../default_runtime_det.py']
max_epochs = 12
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=max_epochs)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs)
]
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.001, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=10.0))
auto_scale_lr = dict(enable=False, base_batch_size=4)  # the toy datasets' batch size

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=8),
    checkpoint=dict(type='mmtokenmix.CrashSafeCheckpointHook', interval=1, max_keep_ckpts=2),
    visualization=dict(type='DetVisualizationHook', draw=False))
log_processor = dict(type='LogProcessor', window_size=8, by_epoch=True)
randomness = dict(seed=0)
