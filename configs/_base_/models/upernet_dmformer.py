# UperNet on DMFormer-S (reconstruction): the UperNet of Swin's ADE20K setting, which the
# DMFormer paper follows (README, DMFormer) - mmseg 1.2.2's upernet_swin.py values: UPerHead
# (pool scales 1, 2, 3, 6, 512 channels, dropout 0.1) on the four stages and an auxiliary
# FCNHead on stage 3 (256 channels, loss weight 0.4); SyncBN in the heads (single-process runs
# revert it to BN). Backbone and data preprocessing as in sfpn_dmformer.py, no FPN neck.
_base_ = './sfpn_dmformer.py'
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    neck=None,
    decode_head=dict(
        _delete_=True,
        type='UPerHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        pool_scales=(1, 2, 3, 6),
        channels=512,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    auxiliary_head=dict(
        type='FCNHead',
        in_channels=320,
        in_index=2,
        channels=256,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=150,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4)))
