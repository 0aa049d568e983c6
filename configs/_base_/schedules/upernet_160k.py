# Swin's UperNet schedule on ADE20K, which DMFormer follows (docs/dmformer.md): 160k
# iterations, AdamW lr 6e-5 betas (0.9, 0.999) wd 0.01, no decay on norms, 1500-iteration
# linear warm-up then linear ("poly", power 1) decay to 0 - segformer_160k.py without the
# decoder's x10 lr.
_base_ = './segformer_160k.py'
optim_wrapper = dict(paramwise_cfg=dict(_delete_=True, custom_keys={'norm': dict(decay_mult=0.)}))
