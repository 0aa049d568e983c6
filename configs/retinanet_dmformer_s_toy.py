# RetinaNet + DMFormer-S trained from scratch on the synthetic toy dataset: the toy recipe of
# retinanet_transxnet_t_toy.py (narrow GroupNorm head, GIoU loss, 12 epochs) with the backbone
# swapped; layer scale starts at 0.1 (1e-5 keeps the blocks silent in a short run from scratch).
_base_ = ['./retinanet_transxnet_t_toy.py']
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DMFormer',
        arch='s',
        out_indices=(1, 2, 3),
        layer_scale_init_value=0.1),
    neck=dict(in_channels=[128, 320, 512]))
