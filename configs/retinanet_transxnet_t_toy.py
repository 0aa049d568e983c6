# The bundled default job: RetinaNet + TransXNet-T trained from scratch on the synthetic toy
# dataset (python tools/make_toy_data.py), on CPU in a few minutes, then COCO bbox evaluation.
# The backbone is the full TransXNet-T; the neck/head are narrower, and the head uses GroupNorm
# and a GIoU box loss, which train much faster from scratch than the stock RetinaHead.
_base_ = [
    './_base_/models/retinanet_transxnet_fpn.py', './_base_/datasets/toy_detection.py',
    './_base_/schedules/toy_adamw_12e.py'
]
model = dict(
    backbone=dict(
        # TransXNet-T with layer scale initialised at 0.1 instead of 1e-5: from scratch,
        # 1e-5 keeps the residual branches silent for most of a short CPU run
        layer_scale_init_value=0.1,
        drop_path_rate=0.0),
    neck=dict(out_channels=64),
    bbox_head=dict(
        num_classes=3,
        in_channels=64,
        feat_channels=64,
        stacked_convs=2,
        norm_cfg=dict(type='GN', num_groups=16, requires_grad=True),
        reg_decoded_bbox=True,
        loss_bbox=dict(type='GIoULoss', loss_weight=2.0)))
