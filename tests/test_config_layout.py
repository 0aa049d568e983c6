"""The config layout, checked by its properties: backbone-neutral head/dataset/schedule bases,
one backbone base per family variant, leaves that combine them; every neck/head takes the
widths the backbone really returns; every leaf has its recipe's facts (RECIPES below)."""

import ast
import glob
import os.path as osp

import pytest
import torch
from mmengine import Config

import mmtokenmix.models  # noqa: F401 (registers the backbones)
from mmtokenmix.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
LEAVES = sorted(glob.glob(osp.join(REPO, 'configs', '*.py')))


def leaf_parts(path):
    """(model, family, variant, dataset) of a leaf name such as
    ``retinanet_transxnet_t_coco`` or ``yolov3-320_xformer_coco`` (variant '' for XFormer)."""
    parts = osp.basename(path)[:-3].split('_')
    model, family, dataset = parts[0].split('-')[0], parts[1], parts[-1]
    return model, family, parts[2] if len(parts) == 4 else '', dataset


# The recipe facts every leaf must have: optimizer, lr, weight decay, schedule length (epochs
# or iterations), images per GPU, and whether it has optimiser rules (paramwise_cfg). Per
# (model, dataset) the recipe the papers share; FAMILY_RECIPES lists where a family's paper
# differs. Toy recipes: AdamW at a from-scratch lr, weight decay 0.05, batches of 4.
RECIPES = {
    ('retinanet', 'coco'): ('AdamW', 1e-4, 1e-4, 12, 2, False),
    ('maskrcnn', 'coco'): ('AdamW', 1e-4, 0.05, 12, 2, False),
    ('yolov3', 'coco'): ('SGD', 3e-3, 5e-4, 30, 24, False),
    ('segformer', 'ade20k'): ('AdamW', 6e-5, 0.01, 160000, 2, True),
    ('segformer', 'cityscapes'): ('AdamW', 6e-5, 0.01, 160000, 1, True),
    ('sfpn', 'ade20k'): ('AdamW', 2e-4, 1e-4, 40000, 4, False),
    ('upernet', 'ade20k'): ('AdamW', 6e-5, 0.01, 160000, 2, True),
    ('retinanet', 'toy'): ('AdamW', 1e-3, 0.05, 12, 4, False),
    ('maskrcnn', 'toy'): ('AdamW', 1e-3, 0.05, 7, 4, False),
    ('yolov3', 'toy'): ('AdamW', 1e-3, 0.05, 9, 4, False),
    ('segformer', 'toy'): ('AdamW', 5e-4, 0.05, 600, 4, True),
    ('sfpn', 'toy'): ('AdamW', 5e-4, 0.05, 600, 4, False),
    # ImageNet classifiers (mmpretrain): the timm recipes, batch 1024 = 8 x 128, 300 + 10
    # cool-down epochs, no decay on biases and 1-D parameters; toy pretraining from scratch
    ('classifier', 'in1k'): ('AdamW', 1e-3, 0.05, 310, 128, True),
    ('classifier', 'toy'): ('AdamW', 1e-3, 0.05, 10, 8, True),
}
FAMILY_RECIPES = {
    # DFFormer's detectors: weight decay 0.05 for RetinaNet too
    ('retinanet', 'dfformer', 'coco'): dict(weight_decay=0.05),
    ('retinanet', 'cdfformer', 'coco'): dict(weight_decay=0.05),
    # TransXNet's and XFormer's Mask R-CNN: no decay on norms and position encodings
    ('maskrcnn', 'transxnet', 'coco'): dict(rules=True),
    ('maskrcnn', 'xformer', 'coco'): dict(rules=True),
    # DMFormer's Mask R-CNN (PoolFormer's recipe): lr 2e-4, weight decay 1e-4
    ('maskrcnn', 'dmformer', 'coco'): dict(lr=2e-4, weight_decay=1e-4),
    # TransXNet's Semantic FPN: 80k iterations; DMFormer's (PoolFormer's): batches of 2
    ('sfpn', 'transxnet', 'ade20k'): dict(schedule=80000),
    ('sfpn', 'dmformer', 'ade20k'): dict(images_per_gpu=2),
    # TransXNet's ImageNet lr 2e-3; XFormer's (MobileViT-S's): lr 2e-3, decay 0.01 on all, 300
    ('classifier', 'transxnet', 'in1k'): dict(lr=2e-3),
    ('classifier', 'xformer', 'in1k'): dict(lr=2e-3, weight_decay=0.01, schedule=300, rules=False),
}
# the stochastic depth of the dense recipes per family (variant); the toy runs use none
DROP_PATH = {
    'transxnet': dict(t=0.1, s=0.2, b=0.3),
    'dfformer': 0.0,
    'cdfformer': 0.0,
    'dmformer': 0.1,
    'xformer': None,
}
FIELDS = ('optimizer', 'lr', 'weight_decay', 'schedule', 'images_per_gpu', 'rules')


def recipe_facts(cfg):
    optimizer = cfg.optim_wrapper.optimizer
    train = cfg.train_cfg
    return dict(
        optimizer=optimizer.type,
        lr=optimizer.lr,
        weight_decay=optimizer.get('weight_decay'),
        schedule=train.get('max_epochs') or train.get('max_iters'),
        images_per_gpu=cfg.train_dataloader.batch_size,
        rules=bool(cfg.optim_wrapper.get('paramwise_cfg')),
    )


def test_every_leaf_has_a_recipe_and_every_recipe_a_leaf():
    keys = {(m, d) for m, _, _, d in map(leaf_parts, LEAVES)}
    assert keys == set(RECIPES)
    leaves = {(m, f, d) for m, f, _, d in map(leaf_parts, LEAVES)}
    assert set(FAMILY_RECIPES) <= leaves


@pytest.mark.parametrize('path', LEAVES, ids=lambda p: osp.basename(p))
def test_leaf_has_its_recipe_facts(path):
    model, family, variant, dataset = leaf_parts(path)
    want = dict(zip(FIELDS, RECIPES[(model, dataset)]))
    want.update(FAMILY_RECIPES.get((model, family, dataset), {}))
    cfg = Config.fromfile(path)
    assert recipe_facts(cfg) == pytest.approx(want)
    if (model, dataset) == ('classifier', 'in1k'):
        return  # the ImageNet recipes' drop path per variant: tests/test_mmpretrain.py
    drop_path = DROP_PATH[family]
    if isinstance(drop_path, dict):
        drop_path = drop_path[variant]
    if dataset == 'toy' and drop_path is not None:
        drop_path = 0.0
    assert cfg.model.backbone.get('drop_path_rate') == drop_path


def _input_widths(model_cfg):
    """The widths the neck (or, without one, the decode head or classification head) takes,
    in the backbone's stage order; YOLOv3's neck lists them deepest first."""
    if model_cfg.type == 'ImageClassifier':
        return [model_cfg.head.in_channels]
    neck = model_cfg.get('neck')
    if isinstance(neck, dict) and 'in_channels' in neck:
        widths = list(neck.in_channels)
        return widths[::-1] if neck.type.endswith('YOLOV3Neck') else widths
    return list(model_cfg.decode_head.in_channels)


@pytest.mark.parametrize('path', LEAVES, ids=lambda p: osp.basename(p))
def test_neck_and_heads_take_the_widths_the_backbone_returns(path):
    cfg = Config.fromfile(path)
    backbone_cfg = cfg.model.backbone.copy()
    backbone_cfg.pop('init_cfg', None)
    backbone_cfg.pop('pretrained', None)
    with torch.device('meta'):  # only the widths are needed: no memory, no initialisation
        backbone = MODELS.build(backbone_cfg)
    returned = [backbone.out_channels[i] for i in backbone.out_indices]
    assert _input_widths(cfg.model) == returned
    auxiliary = cfg.model.get('auxiliary_head')
    if auxiliary:  # UperNet's auxiliary FCN head on one of the returned maps
        assert auxiliary.in_channels == returned[auxiliary.in_index]


def _bases(path):
    tree = ast.parse(open(path).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == '_base_':
            value = ast.literal_eval(node.value)
            return [value] if isinstance(value, str) else value
    return []


@pytest.mark.parametrize('path', LEAVES, ids=lambda p: osp.basename(p))
def test_leaves_combine_one_backbone_base_with_backbone_neutral_bases(path):
    bases = _bases(path)
    assert not [b for b in bases if not b.startswith('./_base_/')], 'a leaf inherits a leaf'
    assert len([b for b in bases if b.startswith('./_base_/backbones/')]) == 1, bases
    family = osp.basename(path).split('_')[1]
    assert [b for b in bases if '/backbones/' in b][0].startswith(f'./_base_/backbones/{family}'), (
        bases
    )


def test_only_backbone_bases_name_a_backbone():
    for path in glob.glob(osp.join(REPO, 'configs', '_base_', '**', '*.py'), recursive=True):
        cfg = Config.fromfile(path)
        if '/backbones/' in path:
            assert set(cfg) == {'backbone', 'backbone_widths', 'backbone_pretrained'} | (
                {'backbone_input_norm'} if 'xformer' in path else set()
            ), path
        else:
            assert 'backbone' not in cfg.get('model', {}), path
            assert 'mmtokenmix.' not in open(path).read().replace(
                'mmtokenmix.CrashSafeCheckpointHook', ''
            ).replace('mmtokenmix.SegLocalVisualizer', '').replace(
                "'mmtokenmix.models', 'mmtokenmix.engine'", ''
            ), path
