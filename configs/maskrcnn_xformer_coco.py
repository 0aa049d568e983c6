# Mask R-CNN 1x on COCO with XFormer (reconstruction), for completeness: the recipe of
# maskrcnn_transxnet_t_coco.py with the backbone swapped.
_base_ = ['./maskrcnn_transxnet_t_coco.py']
model = dict(
    # MobileViT's input convention (RGB in [0, 1]), which the substitute weights expect
    data_preprocessor=dict(mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0]),
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.XFormer',
        arch='s',
        out_indices=(1, 2, 3, 4),
        # no XFormer weights exist: MobileViT-S ImageNet weights (mmpretrain) load wherever
        # names and shapes agree (all but the XFA temperatures); see the README
        init_cfg=dict(
            type='Pretrained',
            checkpoint='checkpoints/mobilevit-small_3rdparty_in1k_20221018-cb4f741c.pth',
            prefix='backbone.')),
    neck=dict(in_channels=[64, 96, 128, 160]))
