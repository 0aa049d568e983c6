# SegFormer's all-MLP decoder + XFormer trained from scratch on the synthetic toy dataset: the
# toy recipe of segformer_transxnet_t_toy.py (128-wide decoder, 600 iterations of 128x128 crops)
# with the backbone swapped (no pretrained weights).
_base_ = ['./segformer_transxnet_t_toy.py']
model = dict(
    backbone=dict(_delete_=True, type='mmtokenmix.XFormer', arch='s', out_indices=(1, 2, 3, 4)),
    decode_head=dict(in_channels=[64, 96, 128, 160]))
