# RetinaNet for training from scratch on the synthetic toy dataset (3 classes): retinanet_fpn.py
# with a narrower neck/head (64 wide, 2 convs), GroupNorm in the head and a GIoU box loss, which
# train much faster from scratch than the stock RetinaHead.
_base_ = './retinanet_fpn.py'
model = dict(
    neck=dict(out_channels=64),
    bbox_head=dict(
        num_classes=3,
        in_channels=64,
        feat_channels=64,
        stacked_convs=2,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        reg_decoded_bbox=True,
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0)))
