# imagenet_adamw_300e.py with DFFormer's 20 warm-up epochs.
_base_ = './imagenet_adamw_300e.py'
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0, end=20,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-5, by_epoch=True, begin=20, end=300,
         convert_to_iter_based=True),
]
