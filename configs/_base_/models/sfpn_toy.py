# Semantic FPN for the synthetic toy dataset (background + 3 shapes): sfpn.py with the decoder
# of the DMFormer paper's ADE20K setting (64-wide FPN, 64-channel FPNHead) and plain BN.
_base_ = './sfpn.py'
model = dict(
    neck=dict(out_channels=64),
    decode_head=dict(in_channels=[64, 64, 64, 64], channels=64, num_classes=4,
                     norm_cfg=dict(type='BN', requires_grad=True)))
