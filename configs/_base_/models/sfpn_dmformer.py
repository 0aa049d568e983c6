# Semantic FPN on DMFormer-S (reconstruction): the PoolFormer/PVT FPN + FPNHead of
# sfpn_transxnet.py, the decoder the DMFormer paper follows (README, DMFormer), with the backbone
# swapped.
_base_ = './sfpn_transxnet.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DMFormer',
        arch='s',
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.1),
    neck=dict(in_channels=[64, 128, 320, 512]))
