# Toy pretraining: TransXNet-T as an mmpretrain ImageClassifier trained from scratch on the
# synthetic toy classification set (python tools/make_toy_data.py --classification), on CPU in
# minutes, then top-1 accuracy. The backbone is the one of retinanet_transxnet_t_toy.py (layer
# scale 0.1, no drop path), so its checkpoint initialises that detector:
#   --cfg-options model.backbone.init_cfg.prefix=backbone. \
#       model.backbone.init_cfg.checkpoint=work_dirs/classifier_transxnet_t_toy/epoch_10.pth
# No Mixup/CutMix (3 classes, 512 images); label smoothing 0.1 as the ImageNet configs.
_base_ = [
    './_base_/backbones/transxnet_t.py',
    './_base_/models/classifier.py',
    './_base_/datasets/toy_classification.py',
    './_base_/schedules/toy_cls_adamw_10e.py'
]
model = dict(
    backbone=dict(
        _base_.backbone,
        out_indices=(3, ),
        out_norm_cfg=None,
        layer_scale_init_value=0.1,
        drop_path_rate=0.0),
    head=dict(
        type='mmtokenmix.NormPoolLinearClsHead',
        num_classes=3,
        in_channels=_base_.backbone_widths[-1],
        topk=(1, )),
    train_cfg=None)
