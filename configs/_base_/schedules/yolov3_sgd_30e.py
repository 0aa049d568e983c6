# YOLOv3's schedule (mmdet 3.3.0's yolov3_mobilenetv2 recipe, shortened as the official
# lightweight detectors): SGD lr 3e-3 momentum 0.9 wd 5e-4, gradient clipping at 35,
# 4000-iteration linear warm-up, 30 epochs of the 10x repeated COCO train set with lr x0.1 after
# epochs 24 and 28; batch 192 (8 GPUs x 24 images).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.003, momentum=0.9, weight_decay=0.0005),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.0001, by_epoch=False, begin=0, end=4000),
    dict(type='MultiStepLR', by_epoch=True, milestones=[24, 28], gamma=0.1)
]
find_unused_parameters = True
auto_scale_lr = dict(enable=False, base_batch_size=192)
