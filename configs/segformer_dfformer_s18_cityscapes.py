# SegFormer's all-MLP decoder on Cityscapes with DFFormer-S18: the recipe of
# segformer_transxnet_t_cityscapes.py (SegFormer's: 160k, batch 8, AdamW 6e-5, decoder lr x10,
# poly, 1024x1024 crops, sliding-window test 1024 / stride 768) with the backbone swapped:
# ImageNet-1K weights with the filter bases resized 224 -> 1024 (the training crop; upstream
# stores them for its training size), drop path 0. No official number exists.
_base_ = ['./segformer_transxnet_t_cityscapes.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DFFormer',
        arch='s18',
        nominal_size=1024,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dfformer_s18.pth')),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
