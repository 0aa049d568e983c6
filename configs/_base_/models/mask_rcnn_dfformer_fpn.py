# Mask R-CNN + FPN on DFFormer-S18: the Mask R-CNN of mask_rcnn_transxnet_fpn.py (mmdet 3.3.0's
# r50 values) with the backbone swapped; filter bases stored for 800x800 inputs as in the
# official DFFormer detection backbone; all four stages feed the FPN.
_base_ = './mask_rcnn_transxnet_fpn.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DFFormer',
        arch='s18',
        nominal_size=800,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0),
    neck=dict(in_channels=[64, 128, 320, 512]))
