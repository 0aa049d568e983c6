# DMFormer-S (Wei et al., ICASSP 2023; a reconstruction, see docs/dmformer.md): the backbone, the
# widths of its four stages (strides 4, 8, 16, 32) and drop path 0.1 (our choice). No released
# weights exist: backbone_pretrained names the file that an ImageNet-1K training of the timm
# model dmformer_s gives (save its state dict there), which the pretrained configs load.
backbone = dict(type='mmtokenmix.DMFormer', arch='s', drop_path_rate=0.1)
backbone_widths = [64, 128, 320, 512]
backbone_pretrained = dict(type='Pretrained', checkpoint='checkpoints/dmformer_s.pth')
