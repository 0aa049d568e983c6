# RetinaNet + DFFormer-S18 trained from scratch on the synthetic toy dataset: the toy recipe of
# retinanet_transxnet_t_toy.py (narrow GroupNorm head, GIoU loss, 12 epochs) with the backbone
# swapped. Filter bases stored for the toy's 128x128 images.
_base_ = ['./retinanet_transxnet_t_toy.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DFFormer',
        arch='s18',
        nominal_size=128,
        out_indices=(1, 2, 3)),
    neck=dict(in_channels=[128, 320, 512]))
