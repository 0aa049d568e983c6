# Mask R-CNN + TransXNet-T trained from scratch on the synthetic toy dataset (python
# tools/make_toy_data.py) on CPU, then COCO bbox + segm evaluation. The backbone is the full
# TransXNet-T (layer scale starting at 0.1 for training from scratch); the neck and heads are
# narrower, with GroupNorm in the RoI heads, and sample fewer proposals than on COCO.
_base_ = [
    './_base_/models/mask_rcnn_transxnet_fpn.py', './_base_/datasets/toy_instance.py',
    './_base_/schedules/toy_adamw_12e.py'
]
gn = dict(type='GN', num_groups=16, requires_grad=True)
model = dict(
    backbone=dict(layer_scale_init_value=0.1, drop_path_rate=0.0),
    neck=dict(out_channels=64),
    rpn_head=dict(in_channels=64, feat_channels=64),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=64),
        bbox_head=dict(type='Shared4Conv1FCBBoxHead', in_channels=64, conv_out_channels=64,
                       fc_out_channels=256, norm_cfg=gn, num_classes=3),
        mask_roi_extractor=dict(out_channels=64),
        mask_head=dict(num_convs=2, in_channels=64, conv_out_channels=64, norm_cfg=gn,
                       num_classes=3)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=500, max_per_img=200),
        rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=100)))

# 7 epochs instead of the toy schedule's 12 keep the CPU run well under 15 minutes
max_epochs = 7
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=1e-5, by_epoch=True, begin=0,
         end=max_epochs)
]
