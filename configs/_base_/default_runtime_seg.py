# Runtime for mmseg configs (the values of mmseg 1.2.2's configs/_base_/default_runtime.py),
# plus the imports that register the mmtokenmix backbones and transforms. Never set
# default_scope to 'mmtokenmix': the mmseg classes would no longer be found.
default_scope = 'mmseg'
custom_imports = dict(
    imports=['mmtokenmix.models', 'mmtokenmix.engine'],
    allow_failed_imports=False)

env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))

vis_backends = [dict(type='LocalVisBackend')]
# mmseg's visualizer, drawing on contiguous images (mmseg's browse_dataset.py needs that)
visualizer = dict(type='mmtokenmix.SegLocalVisualizer', vis_backends=vis_backends,
                  name='visualizer')
log_processor = dict(by_epoch=False)

log_level = 'INFO'
load_from = None
resume = False

tta_model = dict(type='SegTTAModel')
