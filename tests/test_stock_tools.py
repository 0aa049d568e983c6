"""mmdet's, mmseg's and mmpretrain's *own* tools (the scripts inside their wheels, which
`mim train/test` run) on our configs, started from a folder outside the checkout with no
PYTHONPATH: the configs' ``custom_imports`` find mmtokenmix through its install alone. Also
mim itself, and what a wheel of the package carries."""

import glob
import importlib
import json
import os
import os.path as osp
import shutil
import subprocess
import sys

import pytest
from conftest import REPO, run_tool

pytestmark = pytest.mark.slow  # subprocess runs of the tools

# one epoch of 4 iterations (16 toy images, batch 4); after so few iterations no score passes
# the default 0.05 threshold, so keep every box for the evaluator to score
DET_SHORT = [
    'train_cfg.max_epochs=1',
    'train_cfg.val_interval=1',
    'train_dataloader.batch_size=4',
    'model.test_cfg.score_thr=0.0',
]
SEG_SHORT = [
    'train_cfg.max_iters=3',
    'train_cfg.val_interval=3',
    'default_hooks.checkpoint.interval=3',
]


def _stock_tool(package, name):
    return osp.join(osp.dirname(importlib.import_module(package).__file__), '.mim', 'tools', name)


def _outside_env():
    """The environment of a user who only activated the venv: no PYTHONPATH."""
    return {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}


def _run_outside(args, cwd):
    assert not osp.realpath(str(cwd)).startswith(osp.realpath(REPO) + os.sep)
    proc = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=_outside_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        pytest.fail(
            f'{" ".join(map(str, args))} exited {proc.returncode}\n'
            f'{proc.stdout[-4000:]}\n{proc.stderr[-6000:]}'
        )
    return proc.stdout + proc.stderr


def _test_metrics(work_dir):
    """The metrics a test run wrote to <work_dir>/<timestamp>/<timestamp>.json."""
    logs = sorted(glob.glob(osp.join(work_dir, '*', '*.json')))
    assert logs, f'no metrics json under {work_dir}'
    with open(logs[-1]) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def test_mmdet_stock_train_and_test_run_a_detection_config(toy_workdir):
    config = osp.join(REPO, 'configs', 'retinanet_transxnet_t_toy.py')
    work = toy_workdir / 'stock_det'
    _run_outside(
        [
            sys.executable,
            _stock_tool('mmdet', 'train.py'),
            config,
            '--work-dir',
            work,
            '--cfg-options',
            *DET_SHORT,
        ],
        cwd=toy_workdir,
    )
    ckpt = work / 'epoch_1.pth'
    assert ckpt.is_file()
    _run_outside(
        [
            sys.executable,
            _stock_tool('mmdet', 'test.py'),
            config,
            ckpt,
            '--work-dir',
            toy_workdir / 'stock_det_test',
            '--cfg-options',
            'model.test_cfg.score_thr=0.0',
        ],
        cwd=toy_workdir,
    )
    metrics = _test_metrics(toy_workdir / 'stock_det_test')
    assert 0.0 <= metrics['coco/bbox_mAP'] <= 1.0 and 'coco/bbox_mAP_50' in metrics

    # mmdet's analysis tools on the run (docs/stock_tools.md): the loss curve of its log
    # (analyze_logs.py needs seaborn, which the stack carries) and the dataset drawn
    log = sorted(glob.glob(str(work / '*' / 'vis_data' / '2*.json')))[-1]
    _run_outside(
        [
            sys.executable,
            _stock_tool('mmdet', 'analysis_tools/analyze_logs.py'),
            'plot_curve',
            log,
            '--keys',
            'loss',
            '--out',
            toy_workdir / 'det_loss.png',
        ],
        cwd=toy_workdir,
    )
    assert (toy_workdir / 'det_loss.png').stat().st_size > 0
    _run_outside(
        [
            sys.executable,
            _stock_tool('mmdet', 'analysis_tools/browse_dataset.py'),
            config,
            '--output-dir',
            toy_workdir / 'det_browse',
            '--not-show',
        ],
        cwd=toy_workdir,
    )
    assert len(os.listdir(toy_workdir / 'det_browse')) == 16  # every training image


def test_mmseg_stock_train_and_test_run_a_segmentation_config(toy_workdir):
    config = osp.join(REPO, 'configs', 'segformer_transxnet_t_toy.py')
    work = toy_workdir / 'stock_seg'
    _run_outside(
        [
            sys.executable,
            _stock_tool('mmseg', 'train.py'),
            config,
            '--work-dir',
            work,
            '--cfg-options',
            *SEG_SHORT,
        ],
        cwd=toy_workdir,
    )
    ckpt = work / 'iter_3.pth'
    assert ckpt.is_file()
    _run_outside(
        [
            sys.executable,
            _stock_tool('mmseg', 'test.py'),
            config,
            ckpt,
            '--work-dir',
            toy_workdir / 'stock_seg_test',
        ],
        cwd=toy_workdir,
    )
    metrics = _test_metrics(toy_workdir / 'stock_seg_test')
    assert 0.0 <= metrics['mIoU'] <= 100.0 and 'aAcc' in metrics

    # mmseg's browse_dataset.py draws the label maps with OpenCV (4.x in the stack; our
    # configs' visualizer hands it contiguous images), and analyze_logs.py plots the mIoU
    _run_outside(
        [
            sys.executable,
            _stock_tool('mmseg', 'analysis_tools/browse_dataset.py'),
            config,
            '--output-dir',
            toy_workdir / 'seg_browse',
            '--not-show',
        ],
        cwd=toy_workdir,
    )
    assert len(os.listdir(toy_workdir / 'seg_browse')) == 16
    log = sorted(glob.glob(str(work / '*' / 'vis_data' / '2*.json')))[-1]
    _run_outside(
        [
            sys.executable,
            _stock_tool('mmseg', 'analysis_tools/analyze_logs.py'),
            log,
            '--keys',
            'mIoU',
            '--out',
            toy_workdir / 'seg_miou.png',
        ],
        cwd=toy_workdir,
    )
    assert (toy_workdir / 'seg_miou.png').stat().st_size > 0


def test_mim_train_runs_mmdet_stock_tool_on_our_config(toy_workdir):
    mim = shutil.which('mim')
    assert mim is not None, 'openmim is part of the set-up (requirements/stack.txt)'
    config = osp.join(REPO, 'configs', 'yolov3_xformer_toy.py')
    work = toy_workdir / 'mim_det'
    out = _run_outside(
        [
            mim,
            'train',
            'mmdet',
            config,
            '--work-dir',
            work,
            '--cfg-options',
            *DET_SHORT[:3],
            'model.test_cfg.conf_thr=0.0',
            'model.test_cfg.score_thr=0.0',
        ],
        cwd=toy_workdir,
    )
    assert osp.join('mmdet', '.mim', 'tools', 'train.py') in out  # mim ran mmdet's script
    assert (work / 'epoch_1.pth').is_file()
    scalars = sorted(glob.glob(str(work / '*' / 'vis_data' / 'scalars.json')))[-1]
    last = json.loads(open(scalars).read().strip().splitlines()[-1])
    assert 0.0 <= last['coco/bbox_mAP'] <= 1.0


def test_a_wheel_carries_configs_tools_and_index_and_mim_search_reads_them(tmp_path):
    """`pip install .` (what `mim install` does with a checkout) puts real copies of the .mim
    files into site-packages; `mim search mmtokenmix` then lists the models of the index."""
    src = tmp_path / 'src'
    shutil.copytree(
        REPO,
        src,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            '.git', '*.egg-info', 'build', 'data', 'work_dirs', '__pycache__', '.pytest_cache'
        ),
    )
    target = tmp_path / 'site'
    run_tool(
        [
            sys.executable,
            '-m',
            'pip',
            'install',
            '-q',
            '--no-deps',
            '--no-build-isolation',
            '--target',
            target,
            str(src),
        ],
        cwd=tmp_path,
    )
    mim = target / 'mmtokenmix' / '.mim'
    for path in (
        'configs/retinanet_transxnet_t_toy.py',
        'configs/_base_/default_runtime_det.py',
        'configs/transxnet/metafile.yml',
        'tools/train.py',
        'model-index.yml',
    ):
        assert (mim / path).is_file() and not (mim / path).is_symlink(), path
    env = dict(_outside_env(), PYTHONPATH=str(target))
    proc = subprocess.run(
        [shutil.which('mim'), 'search', 'mmtokenmix', '--field', 'config'],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'retinanet_transxnet_t_coco' in proc.stdout
    assert 'sfpn_dmformer_s_ade20k' in proc.stdout


def test_mim_pretrains_a_toy_classifier_whose_backbone_initialises_a_dense_config(toy_workdir):
    """The lifecycle's first step through mmpretrain's own tools: `mim train mmpretrain` on
    the toy pretraining config, mmpretrain's tools/test.py on its checkpoint, then the
    checkpoint as the backbone init of the toy RetinaNet (strict, prefix 'backbone.')."""
    import torch
    from mmengine.config import Config

    from mmtokenmix.analysis import build_model_from_config
    from mmtokenmix.checkpoints import CheckpointMismatchError
    from mmtokenmix.datasets import make_toy_classification

    make_toy_classification(str(toy_workdir / 'data' / 'toy_cls'), num_train=16, num_val=8)
    config = osp.join(REPO, 'configs', 'classifier_transxnet_t_toy.py')
    work = toy_workdir / 'mim_cls'
    short = [
        'train_cfg.max_epochs=1',
        'train_cfg.val_interval=1',
        'train_dataloader.batch_size=8',
        'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False',
        'val_dataloader.num_workers=0',
        'val_dataloader.persistent_workers=False',
    ]
    out = _run_outside(
        [
            shutil.which('mim'),
            'train',
            'mmpretrain',
            config,
            '--work-dir',
            work,
            '--cfg-options',
            *short,
        ],
        cwd=toy_workdir,
    )
    assert osp.join('mmpretrain', '.mim', 'tools', 'train.py') in out
    checkpoint = work / 'epoch_1.pth'
    _run_outside(
        [
            sys.executable,
            _stock_tool('mmpretrain', 'test.py'),
            config,
            checkpoint,
            '--work-dir',
            work / 'test',
            '--cfg-options',
            *short[-2:],
        ],
        cwd=toy_workdir,
    )
    assert 0.0 <= _test_metrics(work / 'test')['accuracy/top1'] <= 100.0

    classifier = torch.load(checkpoint, map_location='cpu', weights_only=False)['state_dict']
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'retinanet_transxnet_t_toy.py'))
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=str(checkpoint), prefix='backbone.'
    )
    detector = build_model_from_config(cfg, pretrained=True)
    detector.init_weights()
    own = detector.backbone.state_dict()
    loaded = [k for k in own if 'backbone.' + k in classifier]
    assert len(loaded) == len([k for k in classifier if k.startswith('backbone.')])
    assert all(torch.equal(own[k], classifier['backbone.' + k]) for k in loaded)
    assert set(own) - set(loaded) == {k for k in own if k.startswith('norm')}  # output norms

    # the same checkpoint cannot initialise another model: the keys are listed
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'retinanet_dmformer_s_toy.py'))
    cfg.model.backbone.init_cfg = dict(
        type='Pretrained', checkpoint=str(checkpoint), prefix='backbone.'
    )
    with pytest.raises(CheckpointMismatchError, match='missing keys'):
        build_model_from_config(cfg, pretrained=True).init_weights()
