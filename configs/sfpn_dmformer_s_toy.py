# Semantic FPN + DMFormer-S trained from scratch on the synthetic toy dataset: the data and
# schedule of segformer_transxnet_t_toy.py (600 iterations of 128x128 crops, AdamW) with the
# Semantic FPN decoder of the paper's ADE20K setting (64-wide FPN, 64-channel FPNHead); layer
# scale starts at 0.1 (1e-5 keeps the blocks silent in a short run from scratch).
_base_ = ['./segformer_transxnet_t_toy.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DMFormer',
        arch='s',
        out_indices=(0, 1, 2, 3),
        layer_scale_init_value=0.1),
    neck=dict(type='FPN', in_channels=[64, 128, 320, 512], out_channels=64, num_outs=4),
    decode_head=dict(
        _delete_=True,
        type='FPNHead',
        in_channels=[64, 64, 64, 64],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=64,
        dropout_ratio=0.1,
        num_classes=4,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
