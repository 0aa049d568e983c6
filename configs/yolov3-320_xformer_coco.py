# YOLOv3 on COCO with XFormer at a single 320x320 scale (the paper's implied setting: 33.2 AP,
# 6.3M params, 3.8G FLOPs): yolov3-320_transxnet_t_coco.py (mmdet's 320 recipe and anchors) with
# the backbone of yolov3_xformer_coco.py.
_base_ = ['./yolov3-320_transxnet_t_coco.py']
model = dict(
    # MobileViT's input convention (RGB in [0, 1]), which the substitute weights expect
    data_preprocessor=dict(mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0]),
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.XFormer',
        arch='s',
        out_indices=(2, 3, 4),
        # no XFormer weights exist: MobileViT-S ImageNet weights (mmpretrain) load wherever
        # names and shapes agree (all but the XFA temperatures); see the README
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/mobilevit-small_3rdparty_in1k_20221018-cb4f741c.pth',
            prefix='backbone.')),
    neck=dict(in_channels=[160, 128, 96]))
