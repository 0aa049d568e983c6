# RetinaNet + FPN on DFFormer-S18: the RetinaNet of retinanet_transxnet_fpn.py (mmdet 3.3.0's
# r50 values, which the official DFFormer RetinaNet uses too) with the backbone swapped.
# Filter bases stored for 800x800 inputs, as the official detection backbones; stage 1 is not
# returned (upstream: FPN start_level=1 and norm0 = Identity via FORK_LAST3).
_base_ = './retinanet_transxnet_fpn.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DFFormer',
        arch='s18',
        nominal_size=800,
        out_indices=(1, 2, 3),
        drop_path_rate=0.0),
    neck=dict(in_channels=[128, 320, 512]))
