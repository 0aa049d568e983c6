# SegFormer's all-MLP decoder on ADE20K with XFormer (reconstruction): the recipe of
# segformer_transxnet_t_ade20k.py (SegFormer-B0's: 160k, AdamW 6e-5, decoder lr x10, poly)
# with the backbone swapped; stages 1-4 (strides 4-32, 64/96/128/160 channels) feed the decoder.
_base_ = ['./segformer_transxnet_t_ade20k.py']
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
    decode_head=dict(in_channels=[64, 96, 128, 160]))
