# The timm ImageNet recipe of TransXNet, DFFormer and PoolFormer (DMFormer): AdamW, weight
# decay 0.05 except on biases and 1-D parameters (timm's rule: norms, layer scales given as
# vectors), lr for a batch of 1024 (auto_scale_lr scales it to yours with --auto-scale-lr),
# linear warm-up from lr x 1e-3 over 5 epochs, cosine to 1e-5 at epoch 300, then timm's 10
# cool-down epochs at 1e-5 (310 in all). Validation every 10 epochs.
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05, eps=1e-8, betas=(0.9, 0.999)),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0))
warmup_epochs = 5
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=warmup_epochs, end=300,
         convert_to_iter_based=True),
]
train_cfg = dict(by_epoch=True, max_epochs=310, val_interval=10)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
