# SegFormer's all-MLP decoder on DFFormer-S18: the model of segformer_transxnet.py (mmseg
# 1.2.2's SegformerHead, 256 wide) with the backbone swapped; filter bases stored for 512x512.
_base_ = './segformer_transxnet.py'
model = dict(
    backbone=dict(
        _delete_=True,
        type='mmtokenmix.DFFormer',
        arch='s18',
        nominal_size=512,
        out_indices=(0, 1, 2, 3),
        drop_path_rate=0.0),
    decode_head=dict(in_channels=[64, 128, 320, 512]))
