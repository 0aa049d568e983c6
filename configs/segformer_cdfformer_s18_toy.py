# SegFormer's all-MLP decoder + CDFFormer-S18 trained from scratch on the synthetic toy
# dataset: the toy recipe of segformer_transxnet_t_toy.py (128-wide decoder, 600 iterations of
# 128x128 crops) with the backbone swapped. Filter bases stored for 128x128 inputs.
_base_ = ['./segformer_transxnet_t_toy.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.CDFFormer',
        arch='s18',
        nominal_size=128,
        out_indices=(0, 1, 2, 3)),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
