# SegFormer's all-MLP decoder for the synthetic toy dataset (background + 3 shapes):
# segformer_head.py 128 wide.
_base_ = './segformer_head.py'
model = dict(decode_head=dict(channels=128, num_classes=4))
