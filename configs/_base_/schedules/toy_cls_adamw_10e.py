# Pretraining from scratch on the toy classification set on CPU: 10 epochs of AdamW lr 1e-3,
# wd 0.05 (timm's exemptions), one warm-up epoch then cosine; evaluate after epochs 5 and 10.
# Includes the mmpretrain runtime, whose hooks it changes (less logging, two checkpoints).
_base_ = ['../default_runtime_cls.py']
max_epochs = 10
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05, betas=(0.9, 0.999)),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0),
    clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=64),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs),
]
train_cfg = dict(by_epoch=True, max_epochs=max_epochs, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(enable=False, base_batch_size=8)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=8),
    checkpoint=dict(type='mmtokenmix.CrashSafeCheckpointHook', interval=1, max_keep_ckpts=2))
log_processor = dict(type='LogProcessor', window_size=8, by_epoch=True)
randomness = dict(seed=0)
