import glob
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine import Config

# what importing a package may pull in, each checked in a fresh interpreter
IMPORT_RULES = {
    'the plugin imports without mmdet or mmseg': (
        'import sys; sys.modules["mmdet"] = None; sys.modules["mmseg"] = None\n'
        'import mmtokenmix.models\n'
        'from mmtokenmix.registry import MODELS\n'
        'assert MODELS.get("TransXNet") is mmtokenmix.models.TransXNet\n'
        'assert not any(m.split(".")[0] in ("mmdet", "mmseg") and sys.modules[m] '
        'for m in sys.modules)\n'
    ),
    'checkpoint reading does not import the models, nor the models the converters': (
        'import sys\n'
        'import mmtokenmix.checkpoints\n'
        'assert "mmtokenmix.models" not in sys.modules\n'
        'import mmtokenmix.models\n'
        'assert "mmtokenmix.converters" not in sys.modules\n'
    ),
}


@pytest.mark.parametrize('rule', sorted(IMPORT_RULES))
def test_imports_go_one_way(repo_root, rule):
    proc = subprocess.run(
        [sys.executable, '-c', IMPORT_RULES[rule]], cwd=repo_root, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize('scope', ['mmdet', 'mmseg'])
def test_scoped_name_resolves_from_mmdet_and_mmseg(scope):
    from mmengine.registry import init_default_scope

    init_default_scope(scope)
    registry = __import__(f'{scope}.registry', fromlist=['MODELS']).MODELS
    backbone = registry.build(dict(type='mmtokenmix.TransXNet', arch='t', out_indices=(3,)))
    assert type(backbone).__name__ == 'TransXNet'
    assert backbone.eval()(torch.randn(1, 3, 64, 64))[0].shape == (1, 448, 2, 2)


def _configs(repo_root):
    return sorted(glob.glob(osp.join(repo_root, 'configs', '*.py')))


def test_every_config_imports_the_plugin_uses_scoped_names_and_the_crash_safe_hook(repo_root):
    paths = _configs(repo_root)
    assert len(paths) >= 20
    for path in paths:
        cfg = Config.fromfile(path)
        assert cfg.custom_imports == dict(
            imports=['mmtokenmix.models', 'mmtokenmix.engine'], allow_failed_imports=False
        ), path
        # atomic checkpoints and exact resume (tests/test_crash_safety.py)
        assert cfg.default_hooks.checkpoint.type == 'mmtokenmix.CrashSafeCheckpointHook', path
        assert cfg.default_scope in ('mmdet', 'mmseg', 'mmpretrain'), path
        assert cfg.model.backbone.type.startswith('mmtokenmix.'), path


@pytest.mark.parametrize(
    'variant,dims,dpr',
    [('t', [96, 224, 448], 0.1), ('s', [128, 320, 512], 0.2), ('b', [152, 336, 672], 0.3)],
)
def test_retinanet_configs_follow_the_official_recipe(repo_root, variant, dims, dpr):
    cfg = Config.fromfile(osp.join(repo_root, f'configs/retinanet_transxnet_{variant}_coco.py'))
    assert cfg.model.backbone.arch == variant
    assert cfg.model.backbone.drop_path_rate == dpr
    assert cfg.model.backbone.init_cfg.checkpoint == f'checkpoints/transx-{variant}.pth.tar'
    assert cfg.model.neck.in_channels == dims
    assert cfg.model.neck.add_extra_convs == 'on_input' and cfg.model.neck.num_outs == 5
    opt = cfg.optim_wrapper.optimizer
    assert (opt.type, opt.lr, opt.weight_decay) == ('AdamW', 1e-4, 1e-4)
    assert 'paramwise_cfg' not in cfg.optim_wrapper
    assert cfg.train_cfg.max_epochs == 12
    assert cfg.train_dataloader.batch_size * 8 == cfg.auto_scale_lr.base_batch_size == 16
    assert [s.milestones for s in cfg.param_scheduler if s.type == 'MultiStepLR'] == [[8, 11]]


@pytest.mark.parametrize(
    'model_type,scope',
    [
        ('MaskRCNN', 'mmdet'),
        ('YOLOV3', 'mmdet'),
        ('EncoderDecoder', 'mmseg'),
        ('mmseg.EncoderDecoder', 'mmseg'),
        ('ImageClassifier', 'mmpretrain'),
    ],
)
def test_tools_detect_the_toolbox_of_a_config_without_default_scope(model_type, scope):
    from mmtokenmix.config_utils import detect_default_scope

    assert detect_default_scope(Config(dict(model=dict(type=model_type)))) == scope
    assert (
        detect_default_scope(Config(dict(default_scope='mmseg', model=dict(type=model_type))))
        == 'mmseg'
    )


def test_unknown_model_type_gets_a_clear_error():
    from mmtokenmix.config_utils import detect_default_scope

    with pytest.raises(ValueError, match="set default_scope = 'mmdet', 'mmseg' or 'mmpretrain'"):
        detect_default_scope(Config(dict(model=dict(type='NoSuchDetector'))))


def test_cpu_distributed_runs_replace_sync_bn_and_use_gloo(repo_root):
    from mmtokenmix.config_utils import adapt_config_to_device

    path = osp.join(repo_root, 'configs/segformer_transxnet_t_toy.py')
    cfg = Config.fromfile(path)
    adapt_config_to_device(cfg, 'none')  # single process: mmengine reverts SyncBN itself
    assert cfg.model.decode_head.norm_cfg.type == 'SyncBN'
    if torch.cuda.is_available():
        pytest.skip('CPU-only behaviour')
    adapt_config_to_device(cfg, 'pytorch')
    assert cfg.model.decode_head.norm_cfg.type == 'BN'
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    assert cfg.model_wrapper_cfg.device_ids is None


@pytest.mark.parametrize(
    'config',
    ['retinanet_dmformer_s_coco.py', 'retinanet_transxnet_t_coco.py', 'yolov3_xformer_toy.py'],
)
def test_one_line_checkpoint_override_works_in_every_kind_of_leaf(repo_root, config):
    """mmdet's usual ``--cfg-options model.backbone.init_cfg.checkpoint=X`` merges into a leaf
    that trains from scratch (empty init_cfg) and into one that loads the official file alike."""
    cfg = Config.fromfile(osp.join(repo_root, 'configs', config))
    cfg.merge_from_dict({'model.backbone.init_cfg.checkpoint': 'mine.pth'})
    from mmtokenmix.registry import MODELS

    backbone = MODELS.build(cfg.model.backbone)
    assert backbone.init_cfg['type'] == 'Pretrained'
    assert backbone.init_cfg['checkpoint'] == 'mine.pth'
