# YOLOv3 on COCO with XFormer (reconstruction), the lightweight recipe of yolov3_transxnet_t_coco.py
# (mmdet 3.3.0's yolov3_mobilenetv2_8xb24-ms-416-300e_coco.py: multi-scale 320-416, 416 test, 300
# effective epochs, batch 192, SGD 3e-3) with the backbone swapped. The neck takes stages 2-4
# (strides 8/16/32; 96/128/160 channels, C5 without MobileViT's 640 expansion), deepest first.
_base_ = ['./yolov3_transxnet_t_coco.py']
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
