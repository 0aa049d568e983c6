"""The config layout: backbone-neutral head/dataset/schedule bases, one backbone base per
family variant, leaves that combine them; and every resolved config equals the resolved config
of the layout before it (commit 067dcf6, saved in tests/data), except for the changes listed in
INTENDED_CHANGES."""
import ast
import glob
import gzip
import json
import os.path as osp

import pytest
from mmengine import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
SNAPSHOT = osp.join(REPO, 'tests', 'data', 'resolved_configs_067dcf6.json.gz')
LEAVES = sorted(glob.glob(osp.join(REPO, 'configs', '*.py')))
# top-level names the backbone bases add (configs/_base_/backbones/*.py)
BACKBONE_BASE_KEYS = {'backbone', 'backbone_widths', 'backbone_pretrained',
                      'backbone_input_norm'}

EXPLICIT_ZERO_DROP_PATH = {'model.backbone.drop_path_rate': (None, 0.0)}
# every config: mmtokenmix.datasets registers nothing any more (AlignResize is mmseg's pair now)
NO_DATASETS_IMPORT = {'custom_imports.imports': (
    ['mmtokenmix.models', 'mmtokenmix.datasets', 'mmtokenmix.engine'],
    ['mmtokenmix.models', 'mmtokenmix.engine'])}
# the official Semantic FPN test resize: mmseg's Resize + ResizeToMultiple (the same images,
# tests/test_transforms.py) instead of our AlignResize
_LOAD, _PACK = {'type': 'LoadImageFromFile'}, {'type': 'PackSegInputs'}
_ANNOTATIONS = {'reduce_zero_label': True, 'type': 'LoadAnnotations'}
_ALIGNED_TEST = (
    [_LOAD, {'keep_ratio': True, 'scale': {'__tuple__': [2048, 512]}, 'size_divisor': 32,
             'type': 'mmtokenmix.AlignResize'}, _ANNOTATIONS, _PACK],
    [_LOAD, {'type': 'Resize', 'scale': {'__tuple__': [2048, 512]}, 'keep_ratio': True},
     {'type': 'ResizeToMultiple', 'size_divisor': 32}, _ANNOTATIONS, _PACK])
MMSEG_TEST_RESIZE = {key: _ALIGNED_TEST for key in (
    'test_pipeline', 'val_dataloader.dataset.pipeline', 'test_dataloader.dataset.pipeline')}
# every segmentation config: mmseg's visualizer drawing on contiguous images (mmseg's
# browse_dataset.py fails with the stock one, docs/stock_tools.md)
SEG_VISUALIZER = {'visualizer.type': ('SegLocalVisualizer', 'mmtokenmix.SegLocalVisualizer')}
INTENDED_CHANGES = {
    **{f'sfpn_transxnet_{v}_ade20k': MMSEG_TEST_RESIZE for v in 'tsb'},
    # the Semantic FPN toy used SegFormer's optimiser rules (decoder lr x10, no decay on norms)
    # because it inherited the SegFormer toy leaf; now it has the Semantic FPN recipes' (none)
    'sfpn_dmformer_s_toy': {
        'optim_wrapper.paramwise_cfg': ({'custom_keys': {'decode_head': {'lr_mult': 10.0},
                                                         'norm': {'decay_mult': 0.0}}}, None),
        **EXPLICIT_ZERO_DROP_PATH},
    # `paramwise_cfg=dict(_delete_=True)` only undid TransXNet's rules: now there are none
    'maskrcnn_dmformer_s_coco': {'optim_wrapper.paramwise_cfg': ({}, None)},
    # the backbone bases state the drop-path rate; the toy leaves now say 0.0 (the default)
    'retinanet_dmformer_s_toy': EXPLICIT_ZERO_DROP_PATH,
    'retinanet_dfformer_s18_toy': EXPLICIT_ZERO_DROP_PATH,
    'segformer_cdfformer_s18_toy': EXPLICIT_ZERO_DROP_PATH,
}


# DMFormer has no released weights: its configs train from scratch instead of naming a file
# nobody has (checkpoints/dmformer_<arch>.pth)
for _leaf in LEAVES:
    _name = osp.basename(_leaf)[:-3]
    if '_dmformer_' in _name and not _name.endswith('_toy'):
        _arch = _name.split('_dmformer_')[1].split('_')[0]
        INTENDED_CHANGES.setdefault(_name, {})['model.backbone.init_cfg'] = (
            {'checkpoint': f'checkpoints/dmformer_{_arch}.pth', 'type': 'Pretrained'}, None)


def _plain(x):
    if isinstance(x, tuple):
        return {'__tuple__': [_plain(v) for v in x]}
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_plain(v) for v in x]
    return x


def resolved_config(path):
    """A config as JSON-able data (tuples kept apart from lists), without the helper names of
    the backbone bases."""
    cfg = _plain(Config.fromfile(path).to_dict())
    return {k: v for k, v in cfg.items() if k not in BACKBONE_BASE_KEYS}


def snapshot():
    with gzip.open(SNAPSHOT, 'rt') as f:
        return json.load(f)


def config_differences(old, new, prefix=''):
    """{dotted key: (old value, new value)} for every leaf value that differs (None: absent)."""
    if isinstance(old, dict) and isinstance(new, dict) and '__tuple__' not in old:
        out = {}
        for key in sorted(set(old) | set(new)):
            out.update(config_differences(old.get(key), new.get(key), f'{prefix}{key}.'))
        return out
    return {} if old == new else {prefix[:-1]: (old, new)}


def test_every_resolved_config_equals_the_previous_layout_except_the_listed_changes():
    snap = snapshot()
    assert sorted(snap) == [osp.basename(p)[:-3] for p in LEAVES]
    changed = {}
    for path in LEAVES:
        name = osp.basename(path)[:-3]
        diff = config_differences(snap[name], resolved_config(path))
        seg = snap[name].get('default_scope') == 'mmseg'
        if diff != {**NO_DATASETS_IMPORT, **(SEG_VISUALIZER if seg else {}),
                    **INTENDED_CHANGES.get(name, {})}:
            changed[name] = diff
    assert not changed


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
    assert [b for b in bases if '/backbones/' in b][0].startswith(
        f'./_base_/backbones/{family}'), bases


def test_only_backbone_bases_name_a_backbone():
    for path in glob.glob(osp.join(REPO, 'configs', '_base_', '**', '*.py'), recursive=True):
        cfg = Config.fromfile(path)
        if '/backbones/' in path:
            assert set(cfg) == {'backbone', 'backbone_widths', 'backbone_pretrained'} | (
                {'backbone_input_norm'} if 'xformer' in path else set()), path
        else:
            assert 'backbone' not in cfg.get('model', {}), path
            assert 'mmtokenmix.' not in open(path).read().replace(
                'mmtokenmix.CrashSafeCheckpointHook', '').replace(
                'mmtokenmix.SegLocalVisualizer', '').replace(
                "'mmtokenmix.models', 'mmtokenmix.engine'", ''), path
