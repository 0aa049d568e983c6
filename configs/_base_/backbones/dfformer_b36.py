# DFFormer-B36 (Tatsunami & Taki, AAAI 2024): the backbone, the widths of its four stages
# (strides 4, 8, 16, 32) and the official ImageNet-1K file (release "weights", saved under
# checkpoints/). Upstream has no dense model of B36; the ImageNet classifier config uses it.
backbone = dict(type='mmtokenmix.DFFormer', arch='b36', drop_path_rate=0.0, init_cfg=dict())
backbone_widths = [128, 256, 512, 768]
backbone_pretrained = dict(type='Pretrained', checkpoint='checkpoints/dfformer_b36.pth')
