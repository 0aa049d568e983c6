# SegFormer's all-MLP decoder + TransXNet-T trained from scratch on the synthetic toy dataset
# (python tools/make_toy_data.py: label maps with background + 3 shapes) on CPU, then mIoU.
# The backbone is the full TransXNet-T (layer scale starting at 0.1 for training from scratch);
# the decoder is 128 wide. SegFormer's optimiser (AdamW, decoder lr x10, no decay on norms) at
# a from-scratch lr, with warm-up and poly decay over a short iteration schedule.
_base_ = [
    './_base_/backbones/transxnet_t.py',
    './_base_/models/segformer_head_toy.py',
    './_base_/datasets/toy_segmentation.py',
    './_base_/schedules/segformer_toy_600it.py',
    './_base_/default_runtime_seg.py'
]
crop_size = (128, 128)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        _base_.backbone, out_indices=(0, 1, 2, 3), layer_scale_init_value=0.1, drop_path_rate=0.0),
    decode_head=dict(in_channels=_base_.backbone_widths))
