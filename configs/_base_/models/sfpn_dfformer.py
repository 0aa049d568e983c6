# Semantic FPN on DFFormer-S18: the model of sfpn_transxnet.py (the PoolFormer/UniFormer FPN +
# FPNHead that the official DFFormer segmentation configs use too) with the backbone swapped;
# filter bases stored for 512x512 inputs as in the official segmentation backbone.
_base_ = './sfpn_transxnet.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DFFormer',
        arch='s18',
        nominal_size=512,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0),
    neck=dict(in_channels=[64, 128, 320, 512]))
