# DMFormer-M (Wei et al., ICASSP 2023; a reconstruction, see docs/dmformer.md): the backbone, the
# widths of its four stages (strides 4, 8, 16, 32) and drop path 0.1 (our choice). No released
# weights exist for anyone, so the configs train the backbone from scratch (init_cfg empty). With
# your own ImageNet-1K training of the timm model dmformer_m (its state dict saved to a file),
# start from it in a config of your own (docs/dmformer.md), e.g.
#   model = dict(backbone=dict(init_cfg=dict(
#       type='Pretrained', checkpoint='checkpoints/dmformer_m.pth')))
backbone = dict(type='mmtokenmix.DMFormer', arch='m', drop_path_rate=0.1, init_cfg=dict())
backbone_widths = [64, 128, 320, 512]
backbone_pretrained = dict()
