# TransXNet-T (Lou et al., TNNLS 2025; 12.8 M parameters as an ImageNet classifier): the backbone,
# the widths of its four stages (strides 4, 8, 16, 32), the official ImageNet-1K file (TransXNet
# v1.0 release, saved under checkpoints/) and the drop-path rate of the official dense recipes.
backbone = dict(type='mmtokenmix.TransXNet', arch='t', drop_path_rate=0.1, init_cfg=dict())
backbone_widths = [48, 96, 224, 448]
backbone_pretrained = dict(type='Pretrained', checkpoint='checkpoints/transx-t.pth.tar')
