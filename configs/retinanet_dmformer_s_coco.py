# RetinaNet 1x on COCO with DMFormer-S (reconstruction; the paper has no COCO results): the
# recipe of retinanet_transxnet_t_coco.py, which is also PoolFormer's RetinaNet recipe (AdamW
# lr 1e-4 wd 1e-4 on every parameter, 12 epochs, batch 16, 1333x800; stage 1 not returned as
# in PoolFormer's start_level=1), with the backbone swapped. ImageNet-1K weights: train
# dmformer_s with timm and save the state dict under checkpoints/. Drop path 0.1 (our choice).
_base_ = ['./retinanet_transxnet_t_coco.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DMFormer',
        arch='s',
        out_indices=(1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dmformer_s.pth')),
    neck=dict(in_channels=[128, 320, 512]))
