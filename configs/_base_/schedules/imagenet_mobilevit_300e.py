# MobileViT-S's ImageNet schedule (cvnets), which XFormer follows: AdamW with weight decay 0.01
# on every parameter (BN and biases too), lr 2e-3 for a batch of 1024 with a linear warm-up
# of 20k iterations from 2e-4, cosine to 2e-4 at epoch 300, label smoothing 0.1 (the
# classifier base) and no Mixup/CutMix (the leaf drops them); EMA momentum 5e-4.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=2e-3, weight_decay=0.01, betas=(0.9, 0.999)))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=20000),
    dict(type='CosineAnnealingLR', eta_min=2e-4, by_epoch=True, begin=0, end=300,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
custom_hooks = [dict(type='EMAHook', momentum=5e-4, priority='ABOVE_NORMAL')]
