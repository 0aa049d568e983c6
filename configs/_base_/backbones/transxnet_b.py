# TransXNet-B (Lou et al., TNNLS 2025; 48.0 M parameters as an ImageNet classifier): the backbone,
# the widths of its four stages (strides 4, 8, 16, 32), the official ImageNet-1K file (TransXNet
# v1.0 release, saved under checkpoints/) and the drop-path rate of the official dense recipes.
backbone = dict(type='mmtokenmix.TransXNet', arch='b', drop_path_rate=0.3, init_cfg=dict())
backbone_widths = [76, 152, 336, 672]
backbone_pretrained = dict(type='Pretrained', checkpoint='checkpoints/transx-b.pth.tar')
