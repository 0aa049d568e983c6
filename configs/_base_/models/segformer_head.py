# SegFormer's all-MLP decoder (mmseg 1.2.2's SegformerHead, settings of
# configs/_base_/models/segformer_mit-b0.py) on the four stages of a backbone the leaf config adds
# together with the head's in_channels. The decoder width stays at mmseg's 256 for every backbone
# size (mmseg uses 256 for MiT-B0..B5 alike).
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
    decode_head=dict(
        type='SegformerHead',
        in_index=[0, 1, 2, 3],
        channels=256,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
