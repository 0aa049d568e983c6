# Semantic FPN on TransXNet-T: the model of the official ADE20K configs
# (semantic_segmentation/configs/sfpn_transxnet_*.py, UniFormer's FPN recipe), with mmseg
# 1.2.2's FPN and FPNHead. SyncBN in the head as upstream; single-process runs revert it to BN.
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=dict(
        type='SegDataPreProcessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True,
        pad_val=0,
        seg_pad_val=255),
    backbone=dict(
        type='mmtokenmix.TransXNet',
        arch='t',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1),
    neck=dict(type='FPN', in_channels=[48, 96, 224, 448], out_channels=256, num_outs=4),
    decode_head=dict(
        type='FPNHead',
        in_channels=[256, 256, 256, 256],
        in_index=[0, 1, 2, 3],
        feature_strides=[4, 8, 16, 32],
        channels=128,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
