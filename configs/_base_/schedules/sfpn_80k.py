# The official TransXNet Semantic FPN schedule on ADE20K: 80k iterations, batch 32 (8 GPUs x
# 4 images), AdamW lr 2e-4 wd 1e-4 with no parameter-wise exemption (upstream decays
# everything), cosine decay with a 1000-iteration linear warm-up from 0.1x; checkpoint and
# evaluate every 4k iterations, keeping the best mIoU.
# mmcv 1.x's cosine runs from iteration 0 and the warm-up factor multiplies it; mmengine
# chains the two schedulers the same way (min lr ratio 1e-8 as upstream).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=0.0002, betas=(0.9, 0.999), weight_decay=0.0001))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=1000),
    dict(type='CosineAnnealingLR', T_max=80000, eta_min_ratio=1e-8, by_epoch=False, begin=0,
         end=80000)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=80000, val_interval=4000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='mmtokenmix.CrashSafeCheckpointHook', by_epoch=False, interval=4000,
                    max_keep_ckpts=1, save_best='mIoU'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
