# CDFFormer-S36 (Tatsunami & Taki, AAAI 2024): the backbone, the widths of its four stages
# (strides 4, 8, 16, 32) and the official ImageNet-1K file (release "weights", saved under
# checkpoints/). Drop path 0 as in the official dense models. nominal_size (the input size the
# filter bases are stored for) is set per task: 800 for COCO, 512 for ADE20K, 1024 for Cityscapes.
backbone = dict(type='mmtokenmix.CDFFormer', arch='s36', drop_path_rate=0.0, init_cfg=dict())
backbone_widths = [64, 128, 320, 512]
backbone_pretrained = dict(type='Pretrained', checkpoint='checkpoints/cdfformer_s36.pth')
