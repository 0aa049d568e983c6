# SegFormer's all-MLP decoder + TransXNet-T trained from scratch on the synthetic toy dataset
# (python tools/make_toy_data.py: label maps with background + 3 shapes) on CPU, then mIoU.
# The backbone is the full TransXNet-T (layer scale starting at 0.1 for training from scratch);
# the decoder is 128 wide. SegFormer's optimiser (AdamW, decoder lr x10, no decay on norms) at
# a from-scratch lr, with warm-up and poly decay over a short iteration schedule.
_base_ = [
    './_base_/models/segformer_transxnet.py', './_base_/datasets/toy_segmentation.py',
    './_base_/schedules/segformer_160k.py', './_base_/default_runtime_seg.py'
]
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(layer_scale_init_value=0.1, drop_path_rate=0.0),
    decode_head=dict(channels=128, num_classes=4))

max_iters = 600
optim_wrapper = dict(optimizer=dict(lr=0.0005, weight_decay=0.05), clip_grad=dict(max_norm=10.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin=50, end=max_iters)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    checkpoint=dict(type='mmtokenmix.CrashSafeCheckpointHook', by_epoch=False, interval=200,
                    max_keep_ckpts=2),
    visualization=dict(type='SegVisualizationHook', draw=False))
randomness = dict(seed=0)
