# Mask R-CNN 1x on COCO with DMFormer-S (reconstruction; the paper has no COCO results): the
# Mask R-CNN of maskrcnn_transxnet_t_coco.py with the backbone swapped and PoolFormer's Mask
# R-CNN optimiser (AdamW lr 2e-4 wd 1e-4 on every parameter), 12 epochs, batch 16, 1333x800.
# ImageNet-1K weights: train dmformer_s with timm and save the state dict under checkpoints/.
# Drop path 0.1 (our choice).
_base_ = ['./maskrcnn_transxnet_t_coco.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DMFormer',
        arch='s',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint='checkpoints/dmformer_s.pth')),
    neck=dict(in_channels=[64, 128, 320, 512]))
optim_wrapper = dict(optimizer=dict(lr=0.0002, weight_decay=0.0001),
                     paramwise_cfg=dict(_delete_=True))
