# Runtime for mmpretrain configs (the values of mmpretrain 1.2.0's
# configs/_base_/default_runtime.py), plus the imports that register the mmtokenmix backbones,
# heads and hooks. Never set default_scope to 'mmtokenmix': mmpretrain's classes would no longer
# be found.
default_scope = 'mmpretrain'
custom_imports = dict(
    imports=['mmtokenmix.models', 'mmtokenmix.engine'],
    allow_failed_imports=False)

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='mmtokenmix.CrashSafeCheckpointHook', interval=1, max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='VisualizationHook', enable=False))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='UniversalVisualizer', vis_backends=vis_backends)
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=True)

log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=None, deterministic=False)
