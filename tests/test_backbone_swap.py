"""Our backbones in other people's configs: every family swapped into stock mmdet and mmseg
recipes (read from the installed packages) the way the README shows -- only the backbone, its
out_indices and the widths its consumer takes change -- builds through mmdet's/mmseg's
registries, runs one training step and predicts."""

import pytest
import torch
from conftest import det_batch, seg_batch
from mmengine import Config

import mmtokenmix.models  # noqa: F401
from mmtokenmix.analysis import build_model_from_config
from mmtokenmix.backbone_swap import (
    plan_backbone_swap,
    stock_config_path,
    swap_backbone,
    swap_config_text,
)

FAMILIES = {
    'TransXNet': dict(type='mmtokenmix.TransXNet', arch='t'),
    'DFFormer': dict(type='mmtokenmix.DFFormer', arch='s18'),
    'CDFFormer': dict(type='mmtokenmix.CDFFormer', arch='s18'),
    'XFormer': dict(type='mmtokenmix.XFormer', arch='s'),
    'DMFormer': dict(type='mmtokenmix.DMFormer', arch='s'),
}
DET_RECIPES = [
    'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py',
    'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py',
    'mmdet::mask_rcnn/mask-rcnn_r50_fpn_1x_coco.py',
    'mmdet::cascade_rcnn/cascade-mask-rcnn_r50_fpn_1x_coco.py',
    'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py',
    'mmdet::atss/atss_r50_fpn_1x_coco.py',
    'mmdet::gfl/gfl_r50_fpn_1x_coco.py',
    'mmdet::yolo/yolov3_d53_8xb8-320-273e_coco.py',
    'mmdet::dino/dino-4scale_r50_8xb2-12e_coco.py',
    'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py',
]
SEG_RECIPES = [
    'mmseg::sem_fpn/fpn_r50_4xb4-160k_ade20k-512x512.py',
    'mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py',
    'mmseg::segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py',
    'mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-80k_ade20k-512x512.py',
    'mmseg::mask2former/mask2former_r50_8xb2-160k_ade20k-512x512.py',
]
SEG_SIZE = (64, 96)


@pytest.mark.parametrize('recipe', DET_RECIPES + SEG_RECIPES)
@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_backbone_swapped_into_a_stock_recipe_trains_and_predicts(family, recipe):
    cfg = Config.fromfile(stock_config_path(recipe))
    stock_backbone = cfg.model.backbone.type
    plan = swap_backbone(cfg, FAMILIES[family])
    changed = {path.split('.')[1].split('[')[0] for path, _, _ in plan.changes}
    assert changed <= {'neck', 'decode_head', 'auxiliary_head', 'pretrained'}, plan.changes
    assert stock_backbone != cfg.model.backbone.type
    seg = recipe.startswith('mmseg')
    if seg:  # the recipes' 512x512 crops, shrunk: the same code path at any size
        cfg.model.data_preprocessor.size = SEG_SIZE
    torch.manual_seed(0)
    model = build_model_from_config(cfg)
    model.init_weights()
    if seg:
        batch = seg_batch(cfg.model.decode_head.num_classes, [SEG_SIZE, SEG_SIZE])
    else:
        # DINO picks its 900 queries among the encoder's tokens: 256x256 gives 1,360 of them
        side = 256 if 'dino' in recipe else 128
        batch = det_batch(
            with_mask='mask' in recipe,
            shapes=((3, side, side + 32), (3, side, side)),
            num_classes=80,
        )
    model.train()
    losses = model(**model.data_preprocessor(batch, True), mode='loss')
    loss, log_vars = model.parse_losses(losses)
    assert torch.isfinite(loss), log_vars
    loss.backward()
    first = next(model.backbone.parameters())
    assert first.grad is not None and first.grad.abs().sum() > 0  # reaches the stem

    model.eval()
    with torch.no_grad():
        results = model(**model.data_preprocessor(batch, False), mode='predict')
    assert len(results) == 2
    if seg:
        assert results[0].pred_sem_seg.data.shape == (1, *SEG_SIZE)
    else:
        assert results[0].pred_instances.bboxes.shape[1] == 4


def test_swap_plan_matches_strides_and_writes_a_leaf_config_that_builds(tmp_path):
    """YOLOv3's neck takes Darknet's stride-8/16/32 maps deepest first: XFormer's stages 2-4
    go there, reversed; the printed leaf config, inherited as a user would, builds."""
    recipe = 'mmdet::yolo/yolov3_d53_8xb8-320-273e_coco.py'
    cfg = Config.fromfile(stock_config_path(recipe))
    backbone = dict(type='mmtokenmix.XFormer', arch='s')
    plan = plan_backbone_swap(cfg, backbone)
    assert plan.stock_maps == [(256, 8), (512, 16), (1024, 32)]
    assert plan.out_indices == (2, 3, 4)
    assert plan.changes == [('model.neck.in_channels', [1024, 512, 256], [160, 128, 96])]
    leaf = tmp_path / 'yolov3_xformer.py'
    leaf.write_text(swap_config_text(recipe, backbone, plan))
    swapped = Config.fromfile(str(leaf))
    assert swapped.model.backbone.type == 'mmtokenmix.XFormer'
    assert swapped.model.neck.in_channels == [160, 128, 96]
    assert swapped.model.neck.out_channels == cfg.model.neck.out_channels  # the rest is stock
    build_model_from_config(swapped)


def test_dilated_recipes_get_a_note_and_stock_weights_are_dropped():
    cfg = Config.fromfile(
        stock_config_path('mmseg::deeplabv3plus/deeplabv3plus_r50-d8_4xb4-80k_ade20k-512x512.py')
    )
    plan = plan_backbone_swap(cfg, FAMILIES['DMFormer'])
    assert [s for _, s in plan.stock_maps] == [4, 8, 8, 8]
    assert plan.out_indices == (0, 1, 2, 3)
    assert any('dilated' in note for note in plan.notes)
    assert ('model.pretrained', 'open-mmlab://resnet50_v1c', None) in plan.changes
    assert ('model.decode_head.c1_in_channels', 256, 64) in plan.changes


def test_stock_mmseg_pretrained_reaches_our_backbone_with_a_clear_error():
    """An mmseg recipe inherited with only the backbone swapped: mmseg passes
    model.pretrained (its ResNet's weights) to our backbone, which says what to change."""
    cfg = Config.fromfile(stock_config_path('mmseg::sem_fpn/fpn_r50_4xb4-160k_ade20k-512x512.py'))
    cfg.model.neck.in_channels = [64, 128, 320, 512]
    cfg.model.backbone = dict(type='mmtokenmix.DFFormer', arch='s18')
    with pytest.raises(ValueError, match=r'model\.pretrained=None'):
        build_model_from_config(cfg)
    cfg.model.backbone = dict(type='mmtokenmix.DFFormer', arch='s18')  # mmseg wrote into it
    cfg.model.pretrained = None
    build_model_from_config(cfg)


def test_recipes_the_swap_cannot_serve_are_errors():
    cfg = Config.fromfile(stock_config_path('mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'))
    cfg.model.neck.in_channels = [256, 512, 1024, 4096]  # not what its ResNet-50 returns
    with pytest.raises(ValueError, match=r'holds widths \[4096\]'):
        plan_backbone_swap(cfg, FAMILIES['TransXNet'])
    # a backbone with five maps (XFormer's stride-2..32 stages) replaced by a four-stage one
    cfg.model.backbone = dict(FAMILIES['XFormer'], out_indices=(0, 1, 2, 3, 4))
    cfg.model.neck.in_channels = [32, 64, 96, 128, 160]
    with pytest.raises(ValueError, match='has only 4 stages'):
        plan_backbone_swap(cfg, FAMILIES['TransXNet'])


@pytest.mark.parametrize('family', ['CDFFormer', 'XFormer'])
def test_deformable_detr_losses_stay_finite_over_seeds(family):
    """Reported: NaN matching costs with these two in Deformable DETR on some seeds. The cause
    was a model used without ``init_weights()`` (DETR heads initialise their classification
    bias and box branches there; the Runner always calls it): the stock ResNet-50 then fails
    on some seeds too. Initialised, the losses are finite on every seed."""
    import numpy as np

    recipe = 'mmdet::deformable_detr/deformable-detr_r50_16xb2-50e_coco.py'
    for seed in (1, 2, 3):
        cfg = Config.fromfile(stock_config_path(recipe))
        swap_backbone(cfg, FAMILIES[family])
        torch.manual_seed(seed)
        np.random.seed(seed)  # demo_mm_inputs draws the boxes with NumPy
        model = build_model_from_config(cfg)
        model.init_weights()
        model.train()
        losses = model(**model.data_preprocessor(det_batch(with_mask=False), True), mode='loss')
        loss, log_vars = model.parse_losses(losses)
        assert torch.isfinite(loss), (seed, log_vars)


def test_docs_table_lists_the_widths_of_every_variant():
    import os.path as osp

    from conftest import REPO, load_tool

    from mmtokenmix.backbone_swap import backbone_widths_table
    from mmtokenmix.registry import MODELS

    documented = [
        line
        for line in open(osp.join(REPO, 'docs', 'backbone_swap.md'))
        if line.startswith('| mmtokenmix.')
    ]
    families = load_tool('tools/misc/swap_backbone.py').FAMILIES
    rows = backbone_widths_table([(f, a) for f in families for a in MODELS.get(f).arch_settings])
    expected = [
        f"| mmtokenmix.{r['type']} | {r['arch']} | {r['widths']} | {r['strides']} |\n" for r in rows
    ]
    assert documented == expected
