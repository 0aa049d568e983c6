# XFormer (Zhao et al., arXiv 2207.07268; a reconstruction, see docs/xformer.md): the backbone
# and the widths of its five stages (strides 2, 4, 8, 16, 32). No XFormer weights exist:
# MobileViT-S ImageNet weights (mmpretrain) load wherever names and shapes agree (all but the
# XFA temperatures); they expect MobileViT's input convention (RGB in [0, 1]), hence
# backbone_input_norm for the data preprocessor of configs that load them.
backbone = dict(type='mmtokenmix.XFormer', arch='s', init_cfg=dict())
backbone_widths = [32, 64, 96, 128, 160]
backbone_pretrained = dict(
    type='Pretrained',
    checkpoint='checkpoints/mobilevit-small_3rdparty_in1k_20221018-cb4f741c.pth',
    prefix='backbone.')
backbone_input_norm = dict(mean=[0.0, 0.0, 0.0], std=[255.0, 255.0, 255.0])
