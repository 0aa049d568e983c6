# toy_seg_600it.py with SegFormer's parameter-wise rules (segformer_160k.py): the decoder at
# 10x lr, no weight decay on norms.
_base_ = './toy_seg_600it.py'
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={
    'norm': dict(decay_mult=0.),
    'decode_head': dict(lr_mult=10.)
}))
