# The official DFFormer (= PoolFormer/PVT) Semantic FPN schedule on ADE20K: 40k iterations,
# batch 32 (8 GPUs x 4), AdamW lr 2e-4 wd 1e-4 with no parameter-wise exemption (upstream
# decays everything), poly decay (power 0.9, min lr 0), no warm-up, no AMP; checkpoint and
# evaluate every 4k iterations (hooks of sfpn_80k.py).
_base_ = './sfpn_80k.py'
param_scheduler = [
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=False, begin=0, end=40000)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40000, val_interval=4000)
