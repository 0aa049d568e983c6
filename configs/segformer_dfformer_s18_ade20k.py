# SegFormer's all-MLP decoder on ADE20K with DFFormer-S18: the recipe of
# segformer_transxnet_t_ade20k.py (SegFormer's: 160k, batch 16, AdamW 6e-5, decoder lr x10,
# poly, 512x512 crops, whole-image test) with the backbone swapped: ImageNet-1K weights with
# the filter bases resized 224 -> 512, drop path 0 (as the official DFFormer dense models).
# No official number exists.
_base_ = ['./segformer_transxnet_t_ade20k.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DFFormer',
        arch='s18',
        nominal_size=512,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dfformer_s18.pth')),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
