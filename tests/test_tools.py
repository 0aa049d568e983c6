"""The user-facing tools, run as subprocesses exactly like the README and docs show."""

import glob
import json
import os.path as osp
import re
import subprocess
import sys
import time

import pytest
import torch
from conftest import final_metrics, free_port, run_tool

from mmtokenmix.checkpoints import load_checkpoint_file

pytestmark = pytest.mark.slow  # subprocess runs of the tools

TOY_CONFIG = 'configs/retinanet_transxnet_t_toy.py'
# short runs: 16 toy images in batches of 4, evaluation only at the end; after a few iterations
# no score passes the default 0.05 threshold, so keep every box for the evaluator to score
SHORT = [
    'train_dataloader.batch_size=4',
    'default_hooks.logger.interval=1',
    'log_processor.window_size=1',
    'model.test_cfg.score_thr=0.0',
]


def _cfg(repo_root):
    return osp.join(repo_root, TOY_CONFIG)


def test_train_then_test_on_toy_data(repo_root, toy_workdir):
    work = str(toy_workdir / 'work_train')
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/train.py'),
            _cfg(repo_root),
            '--work-dir',
            work,
            '--cfg-options',
            'train_cfg.max_epochs=2',
            'train_cfg.val_interval=2',
            *SHORT,
        ],
        cwd=toy_workdir,
    )
    assert 'Epoch(train) [2][4/4]' in out
    assert 0 <= final_metrics(work, 'coco/bbox_mAP')['coco/bbox_mAP'] <= 1
    ckpt = osp.join(work, 'epoch_2.pth')
    assert osp.isfile(ckpt)
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/test.py'),
            _cfg(repo_root),
            ckpt,
            '--work-dir',
            str(toy_workdir / 'work_test'),
            '--out',
            str(toy_workdir / 'preds.pkl'),
            '--show-dir',
            'show',
            '--cfg-options',
            'model.test_cfg.score_thr=0.0',
        ],
        cwd=toy_workdir,
    )
    assert re.search(r'Average Precision  \(AP\) @\[ IoU=0.50:0.95 \| area=   all', out)
    metrics = final_metrics(toy_workdir / 'work_test', 'coco/bbox_mAP', 'coco/bbox_mAP_50')
    assert 0 <= metrics['coco/bbox_mAP'] <= metrics['coco/bbox_mAP_50'] <= 1
    import pickle

    preds = pickle.load(open(toy_workdir / 'preds.pkl', 'rb'))
    assert len(preds) == 8 and 'pred_instances' in preds[0]
    # --show-dir: every test image drawn (prediction next to the ground truth, as mmdet
    # does), into WORK_DIR/show as for segmentors
    drawn = glob.glob(str(toy_workdir / 'work_test' / 'show' / '*.png'))
    assert len(drawn) == 8
    assert _png(drawn[0]).shape == (128, 256, 3)
    # the stock tool's other arguments: flip TTA (mmdet's DetTTAModel, added as mmdet's tool
    # does for a config without one) and --show (a window per image; Agg draws none)
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/test.py'),
            _cfg(repo_root),
            ckpt,
            '--work-dir',
            str(toy_workdir / 'work_test_tta'),
            '--tta',
            '--show',
            '--wait-time',
            '0.01',
            '--cfg-options',
            'model.test_cfg.score_thr=0.0',
        ],
        cwd=toy_workdir,
        env=dict(MPLBACKEND='Agg'),
    )
    tta = final_metrics(toy_workdir / 'work_test_tta', 'coco/bbox_mAP')['coco/bbox_mAP']
    assert 0 <= tta <= 1 and 'DetTTAModel' in out
    # a detector of 2 short epochs scores below the head's 0.05: draw everything it finds
    _check_image_demo(
        repo_root,
        toy_workdir,
        _cfg(repo_root),
        ckpt,
        '0.0',
        '--cfg-options',
        'model.test_cfg.score_thr=0.0',
    )


def _png(path):
    import numpy as np
    from PIL import Image

    return np.asarray(Image.open(path).convert('RGB'))


def _check_image_demo(repo_root, toy_workdir, config, ckpt, score_thr, *options, min_size=512):
    """demo/image_demo.py draws the trained model's predictions on two validation images
    (enlarged to ``min_size`` when they are smaller, 0: at their own size)."""
    import mmcv

    images = [str(toy_workdir / 'data/toy/images/val' / n) for n in ('000000.png', '000001.png')]
    out_dir = toy_workdir / f'demo_{osp.basename(config)[:-3]}'
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'demo/image_demo.py'),
            *images,
            config,
            ckpt,
            '--out-dir',
            str(out_dir),
            '--score-thr',
            score_thr,
            '--min-size',
            str(min_size),
            '--grid',
            str(out_dir / 'grid.png'),
            *options,
        ],
        cwd=toy_workdir,
    )
    assert f'{images[0]} -> {out_dir}/000000.png' in out
    size = max(min_size, 128)
    for image in images:
        drawn = _png(out_dir / osp.basename(image))
        plain = mmcv.imrescale(_png(image), size / 128, interpolation='bicubic')
        assert drawn.shape == plain.shape == (size, size, 3)
        assert (drawn != plain).any(axis=2).mean() > 0.01  # predictions drawn over it
    height = max(size, 256)
    assert _png(out_dir / 'grid.png').shape == (height, 2 * height + 4, 3)
    return out


def test_two_process_gloo_training_and_testing_with_dist_scripts(repo_root, toy_workdir):
    work = str(toy_workdir / 'work_dist')
    out = run_tool(
        [
            'bash',
            osp.join(repo_root, 'tools/dist_train.sh'),
            _cfg(repo_root),
            '2',
            '--work-dir',
            work,
            '--cfg-options',
            'train_cfg.max_epochs=1',
            'train_cfg.val_interval=1',
            *SHORT,
        ],
        cwd=toy_workdir,
        env={'PORT': str(free_port()), 'OMP_NUM_THREADS': '1'},
    )
    assert 'Distributed training: True' in out
    assert 'GPU number: 2' in out  # mmengine's name for the world size
    assert "'backend': 'gloo'" in out
    # 16 images, 2 processes x 4 images: 2 iterations per epoch
    assert 'Epoch(train) [1][2/2]' in out
    ckpt = osp.join(work, 'epoch_1.pth')
    assert osp.isfile(ckpt)
    out = run_tool(
        [
            'bash',
            osp.join(repo_root, 'tools/dist_test.sh'),
            _cfg(repo_root),
            ckpt,
            '2',
            '--work-dir',
            str(toy_workdir / 'work_dist_test'),
            '--cfg-options',
            'model.test_cfg.score_thr=0.0',
        ],
        cwd=toy_workdir,
        env={'PORT': str(free_port()), 'OMP_NUM_THREADS': '1'},
    )
    assert 'GPU number: 2' in out
    assert 'Epoch(test) [1/1]' in out  # 8 val images split over 2 ranks: one batch each
    assert 0 <= final_metrics(toy_workdir / 'work_dist_test', 'coco/bbox_mAP')['coco/bbox_mAP'] <= 1


def test_killed_run_resumes_and_finishes_its_schedule(repo_root, toy_workdir):
    work = toy_workdir / 'work_resume'
    args = [
        sys.executable,
        osp.join(repo_root, 'tools/train.py'),
        _cfg(repo_root),
        '--work-dir',
        str(work),
        '--cfg-options',
        'train_cfg.max_epochs=4',
        'train_cfg.val_interval=4',
        *SHORT,
    ]
    proc = subprocess.Popen(
        args, cwd=toy_workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.time() + 300
    while not (work / 'last_checkpoint').exists():
        assert proc.poll() is None, 'training ended before it could be killed'
        assert time.time() < deadline, 'no checkpoint written in time'
        time.sleep(0.2)
    proc.kill()  # SIGKILL: no cleanup, as when a job is pre-empted
    proc.wait()
    done = int(re.search(r'epoch_(\d+)\.pth', (work / 'last_checkpoint').read_text()).group(1))
    assert done < 4
    out = run_tool(args + ['--resume'], cwd=toy_workdir)
    assert f'resumed epoch: {done}, iter: {done * 4}' in out
    assert f'Epoch(train) [{done}]' not in out  # finished epochs are not trained again
    assert 'Epoch(train) [4][4/4]' in out
    final = load_checkpoint_file(str(work / 'epoch_4.pth'))  # weights-only, like a resume
    assert final['meta']['epoch'] == 4 and final['meta']['iter'] == 16
    # the curves of the killed and the resumed run join into one: every iteration once
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/analysis_tools/plot_curves.py'),
            str(work),
            '--out',
            str(work / 'curves.png'),
        ],
        cwd=toy_workdir,
    )
    assert len(list(work.glob('*/vis_data/scalars.json'))) == 2
    assert re.search(r'^loss: [\d.]+ -> [\d.]+ over 16 points, iterations 1-16$', out, re.M)
    assert re.search(r'^loss_cls: .* over 16 points', out, re.M)
    assert re.search(r'^coco/bbox_mAP: [\d.]+ at epoch 4$', out, re.M)
    assert _png(work / 'curves.png').shape == (396, 1210, 3)


def _coco_layout(root):
    """COCO-format data under root/data/coco (toy images, the 80 COCO categories)."""
    from mmdet.datasets import CocoDataset

    from mmtokenmix.datasets import make_toy_dataset

    coco = root / 'data' / 'coco'
    make_toy_dataset(str(root / 'toy'), num_train=4, num_val=2, seed=2)
    (coco / 'annotations').mkdir(parents=True)
    for split in ('train', 'val'):
        (root / 'toy' / 'images' / split).rename(coco / f'{split}2017')
        ann = json.load(open(root / 'toy' / 'annotations' / f'instances_{split}.json'))
        # the 80 COCO categories (the toy shapes become the first three), as in real COCO
        ann['categories'] = [
            dict(id=i + 1, name=name) for i, name in enumerate(CocoDataset.METAINFO['classes'])
        ]
        json.dump(ann, open(coco / 'annotations' / f'instances_{split}2017.json', 'w'))


def _ade_layout(root):
    """ADE20K-format validation data under root/data/ade (toy images as .jpg, label maps)."""
    import cv2

    from mmtokenmix.datasets import make_toy_dataset

    make_toy_dataset(str(root / 'toy'), num_train=1, num_val=2, seed=3)
    ade = root / 'data' / 'ade' / 'ADEChallengeData2016'
    for sub in ('images', 'annotations'):
        (ade / sub / 'validation').mkdir(parents=True)
    for png in sorted((root / 'toy' / 'images' / 'val').glob('*.png')):
        cv2.imwrite(str(ade / 'images' / 'validation' / (png.stem + '.jpg')), cv2.imread(str(png)))
        (root / 'toy' / 'masks' / 'val' / png.name).rename(
            ade / 'annotations' / 'validation' / png.name
        )


NO_WORKERS = [
    'train_dataloader.num_workers=0',
    'train_dataloader.persistent_workers=False',
    'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0',
    'test_dataloader.persistent_workers=False',
]


def test_leaf_config_trains_from_an_official_checkpoint(repo_root, tmp_path):
    """`python tools/train.py configs/retinanet_transxnet_t_coco.py` with COCO-format data
    under data/coco and the official ImageNet file under checkpoints/ (both synthetic here)."""
    from official_layout import official_shapes, random_state_dict

    _coco_layout(tmp_path)
    (tmp_path / 'checkpoints').mkdir()
    torch.save(
        {'state_dict': random_state_dict(official_shapes('t'))},
        tmp_path / 'checkpoints' / 'transx-t.pth.tar',
    )
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/train.py'),
            osp.join(repo_root, 'configs/retinanet_transxnet_t_coco.py'),
            '--cfg-options',
            'train_cfg.max_epochs=1',
            *NO_WORKERS,
            'train_dataloader.dataset.pipeline.2.scale=(160,128)',
            'val_dataloader.dataset.pipeline.1.scale=(160,128)',
            'default_hooks.logger.interval=1',
            'model.test_cfg.score_thr=0.0',
        ],
        cwd=tmp_path,
    )
    assert 'TransXNet: loaded checkpoints/transx-t.pth.tar' in out
    assert 'coco/bbox_mAP' in out
    assert (tmp_path / 'work_dirs' / 'retinanet_transxnet_t_coco' / 'epoch_1.pth').is_file()


def test_maskrcnn_toy_config_trains_and_reports_box_and_mask_map(repo_root, toy_workdir):
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/train.py'),
            osp.join(repo_root, 'configs/maskrcnn_transxnet_t_toy.py'),
            '--work-dir',
            str(toy_workdir / 'work_maskrcnn'),
            '--cfg-options',
            'train_cfg.max_epochs=1',
            'train_cfg.val_interval=1',
            *SHORT[1:3],
            'model.test_cfg.rcnn.score_thr=0.0',
        ],
        cwd=toy_workdir,
    )
    assert 'Epoch(train) [1][4/4]' in out and 'loss_mask' in out
    final_metrics(toy_workdir / 'work_maskrcnn', 'coco/bbox_mAP', 'coco/segm_mAP')


SEG_TOY = 'configs/segformer_transxnet_t_toy.py'


def test_segformer_toy_config_trains_then_tests_with_miou(repo_root, toy_workdir):
    """mmseg configs run through the same tools: the IoU evaluator, iteration-based loop."""
    work = toy_workdir / 'work_seg'
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/train.py'),
            osp.join(repo_root, SEG_TOY),
            '--work-dir',
            str(work),
            '--cfg-options',
            'train_cfg.max_iters=4',
            'train_cfg.val_interval=4',
            'default_hooks.checkpoint.interval=4',
            'default_hooks.logger.interval=1',
        ],
        cwd=toy_workdir,
    )
    assert 'Iter(train) [4/4]' in out and 'decode.loss_ce' in out
    assert 0 <= final_metrics(work, 'mIoU')['mIoU'] <= 100
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/test.py'),
            osp.join(repo_root, SEG_TOY),
            str(work / 'iter_4.pth'),
            '--work-dir',
            str(toy_workdir / 'work_seg_test'),
            '--out',
            str(toy_workdir / 'seg_preds.pkl'),
            '--show-dir',
            'show',
            '--tta',
        ],
        cwd=toy_workdir,
    )
    assert re.search(r'\| +circle +\| +[\d.]+ +\|', out)  # the per-class IoU table
    import pickle

    preds = pickle.load(open(toy_workdir / 'seg_preds.pkl', 'rb'))
    assert len(preds) == 8 and preds[0]['pred_sem_seg']['data'].shape == (1, 128, 128)
    drawn = glob.glob(str(toy_workdir / 'work_seg_test' / 'show' / '*.png'))
    assert len(drawn) == 8  # every image, not mmseg's default of every 50th
    out = _check_image_demo(
        repo_root,
        toy_workdir,
        osp.join(repo_root, SEG_TOY),
        str(work / 'iter_4.pth'),
        '0.3',
        min_size=0,
    )
    assert re.search(r'\(classes (background|circle|square|triangle)', out)


def test_test_tool_refuses_a_checkpoint_that_does_not_fit(repo_root, toy_workdir):
    from mmengine import Config

    from mmtokenmix.analysis import build_model_from_config

    sd = build_model_from_config(Config.fromfile(osp.join(repo_root, SEG_TOY))).state_dict()
    del sd['decode_head.conv_seg.weight']
    sd['decode_head.extra.weight'] = torch.zeros(1)
    torch.save({'state_dict': sd}, toy_workdir / 'bad.pth')
    proc = subprocess.run(
        [
            sys.executable,
            osp.join(repo_root, 'tools/test.py'),
            osp.join(repo_root, SEG_TOY),
            str(toy_workdir / 'bad.pth'),
            '--work-dir',
            str(toy_workdir / 'work_bad'),
        ],
        cwd=toy_workdir,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert 'CheckpointMismatchError' in proc.stderr
    assert 'missing keys (1):\n    decode_head.conv_seg.weight' in proc.stderr
    assert 'unexpected keys (1):\n    decode_head.extra.weight' in proc.stderr


def _convert(repo_root, src, dst, config):
    out = run_tool(
        [
            sys.executable,
            'tools/model_converters/transxnet2mmtokenmix.py',
            str(src),
            str(dst),
            '--config',
            config,
        ],
        cwd=repo_root,
    )
    assert f'matches the model of {config}' in out
    return out


def test_official_maskrcnn_checkpoint_converts_and_evaluates(repo_root, tmp_path):
    """An mmdet 2.x Mask R-CNN checkpoint in the official key layout -> converter ->
    `tools/test.py configs/maskrcnn_transxnet_t_coco.py` (COCO bbox + segm)."""
    from official_layout import official_dense_shapes, random_state_dict

    _coco_layout(tmp_path)
    src = tmp_path / 'maskrcnn_tiny.pth'
    torch.save(
        {
            'meta': {'mmdet_version': '2.28.2'},
            'optimizer': {},
            'state_dict': random_state_dict(official_dense_shapes('maskrcnn'), seed=8),
        },
        src,
    )
    out = _convert(
        repo_root, src, tmp_path / 'converted.pth', 'configs/maskrcnn_transxnet_t_coco.py'
    )
    assert 'TransXNet-T (whole maskrcnn model' in out
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/test.py'),
            osp.join(repo_root, 'configs/maskrcnn_transxnet_t_coco.py'),
            str(tmp_path / 'converted.pth'),
            '--cfg-options',
            *NO_WORKERS,
            'test_dataloader.dataset.pipeline.1.scale=(160,128)',
            'model.test_cfg.rcnn.score_thr=0.0',
        ],
        cwd=tmp_path,
    )
    assert 'coco/bbox_mAP' in out and 'coco/segm_mAP' in out


def test_official_sfpn_checkpoint_converts_and_evaluates_with_align_resize(repo_root, tmp_path):
    """An mmseg 0.x Semantic FPN checkpoint in the official key layout -> converter ->
    `tools/test.py configs/sfpn_transxnet_t_ade20k.py` (the official test resize, mIoU)."""
    from official_layout import official_dense_shapes, random_state_dict

    _ade_layout(tmp_path)
    src = tmp_path / 'sfpn_transxnet_tiny.pth'
    torch.save(
        {
            'meta': {'mmseg_version': '0.30.0'},
            'state_dict': random_state_dict(official_dense_shapes('sfpn'), seed=9),
        },
        src,
    )
    out = _convert(repo_root, src, tmp_path / 'converted.pth', 'configs/sfpn_transxnet_t_ade20k.py')
    assert 'TransXNet-T (whole sfpn model' in out
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/test.py'),
            osp.join(repo_root, 'configs/sfpn_transxnet_t_ade20k.py'),
            str(tmp_path / 'converted.pth'),
            '--out',
            str(tmp_path / 'preds.pkl'),
            '--cfg-options',
            *NO_WORKERS[4:],
        ],
        cwd=tmp_path,
    )
    assert re.search(r'mIoU: \d', out)
    import pickle

    preds = pickle.load(open(tmp_path / 'preds.pkl', 'rb'))
    # the test resize fed the network 512x512; the prediction is scored at the original 128x128
    assert preds[0]['pred_sem_seg']['data'].shape == (1, 128, 128)
    assert tuple(preds[0]['img_shape']) == (512, 512)


def test_converter_config_check_lists_keys(repo_root, tmp_path):
    from official_layout import official_dense_shapes, random_state_dict

    sd = random_state_dict(official_dense_shapes('sfpn'), seed=9)
    src = tmp_path / 'sfpn_transxnet_tiny.pth'
    torch.save({'state_dict': sd}, src)
    proc = subprocess.run(
        [
            sys.executable,
            'tools/model_converters/transxnet2mmtokenmix.py',
            str(src),
            str(tmp_path / 'x.pth'),
            '--config',
            'configs/maskrcnn_transxnet_t_coco.py',
        ],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert 'unexpected keys' in proc.stderr and 'decode_head.conv_seg.weight' in proc.stderr
    assert 'missing keys' in proc.stderr and 'rpn_head.rpn_conv.weight' in proc.stderr


def test_two_process_gloo_training_of_a_segmentor_with_sync_bn(repo_root, toy_workdir):
    """The SegFormer head's SyncBN cannot run on CPU: distributed CPU runs switch it to BN."""
    out = run_tool(
        [
            'bash',
            osp.join(repo_root, 'tools/dist_train.sh'),
            osp.join(repo_root, SEG_TOY),
            '2',
            '--work-dir',
            str(toy_workdir / 'work_seg_dist'),
            '--cfg-options',
            'train_cfg.max_iters=2',
            'train_cfg.val_interval=2',
            'default_hooks.checkpoint.interval=2',
            'default_hooks.logger.interval=1',
        ],
        cwd=toy_workdir,
        env={'PORT': str(free_port()), 'OMP_NUM_THREADS': '1'},
    )
    assert 'SyncBN -> BN for distributed training on CPU' in out
    assert 'GPU number: 2' in out and "'backend': 'gloo'" in out
    assert 'Iter(train) [2/2]' in out and re.search(r'mIoU: \d', out)


# ---- toy runs of the DFFormer / CDFFormer, XFormer and DMFormer configs ---------------------
def _train_toy(repo_root, toy_workdir, config, *options):
    """tools/train.py on a toy config with short-run overrides; returns its output."""
    name = osp.splitext(osp.basename(config))[0]
    return run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/train.py'),
            osp.join(repo_root, config),
            '--work-dir',
            str(toy_workdir / f'work_{name}'),
            '--cfg-options',
            *options,
        ],
        cwd=toy_workdir,
    )


# one epoch of 4 iterations then COCO evaluation (YOLOv3 also needs its confidence threshold
# at 0 to keep boxes after a few iterations)
SHORT_EPOCH = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1', *SHORT]
# three iterations then mIoU
SHORT_ITERS = [
    'train_cfg.max_iters=3',
    'train_cfg.val_interval=3',
    'default_hooks.checkpoint.interval=3',
    'default_hooks.logger.interval=1',
]


@pytest.mark.parametrize(
    'config,extra,loss',
    [
        ('configs/retinanet_dfformer_s18_toy.py', [], 'loss_cls'),
        ('configs/yolov3_xformer_toy.py', ['model.test_cfg.conf_thr=0.0'], 'loss_xy'),
        ('configs/retinanet_dmformer_s_toy.py', [], 'loss_cls'),
    ],
)
def test_toy_detector_of_each_backbone_trains_and_evaluates(
    repo_root, toy_workdir, config, extra, loss
):
    out = _train_toy(repo_root, toy_workdir, config, *SHORT_EPOCH, *extra)
    assert 'Epoch(train) [1][4/4]' in out and loss in out
    name = osp.splitext(osp.basename(config))[0]
    assert 0 <= final_metrics(toy_workdir / f'work_{name}', 'coco/bbox_mAP')['coco/bbox_mAP'] <= 1


@pytest.mark.parametrize(
    'config', ['configs/segformer_xformer_toy.py', 'configs/sfpn_dmformer_s_toy.py']
)
def test_toy_segmentor_of_each_backbone_trains_and_evaluates(repo_root, toy_workdir, config):
    out = _train_toy(repo_root, toy_workdir, config, *SHORT_ITERS)
    assert 'Iter(train) [3/3]' in out
    name = osp.splitext(osp.basename(config))[0]
    assert 0 <= final_metrics(toy_workdir / f'work_{name}', 'mIoU')['mIoU'] <= 100


def test_cdfformer_toy_segmentation_trains_with_deterministic_algorithms(repo_root, toy_workdir):
    """randomness.deterministic=True turns on torch.use_deterministic_algorithms; the filter
    resize has a deterministic backward (bicubic F.interpolate has none on CUDA)."""
    out = _train_toy(
        repo_root,
        toy_workdir,
        'configs/segformer_cdfformer_s18_toy.py',
        *SHORT_ITERS,
        'randomness.deterministic=True',
    )
    assert 'Iter(train) [3/3]' in out and re.search(r'mIoU: \d', out)
    assert 'deterministic: True' in out


def test_amp_on_a_cpu_trains_in_bfloat16(repo_root, toy_workdir):
    """--amp without a GPU: bf16 autocast (mmengine's AmpOptimWrapper would assert CUDA),
    here through CDFFormer, whose FFT filter stays float32 inside autocast."""
    work = toy_workdir / 'work_amp'
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/train.py'),
            osp.join(repo_root, 'configs/segformer_cdfformer_s18_toy.py'),
            '--amp',
            '--work-dir',
            str(work),
            '--cfg-options',
            *SHORT_ITERS,
        ],
        cwd=toy_workdir,
    )
    assert "type='mmtokenmix.CPUAutocastOptimWrapper'" in out and "dtype='bfloat16'" in out
    assert 'Iter(train) [3/3]' in out
    assert 0 <= final_metrics(work, 'mIoU')['mIoU'] <= 100


def test_dfformer_coco_leaf_trains_from_the_released_imagenet_file(repo_root, tmp_path):
    """`python tools/train.py configs/retinanet_dfformer_s18_coco.py` with the released
    dfformer_s18.pth (synthetic, official layout) under checkpoints/: the filter bases are
    resized 224 -> 800 on loading; the AMP recipe trains in float32 without a GPU."""
    from official_layout import dfformer_shapes, random_state_dict

    _coco_layout(tmp_path)
    (tmp_path / 'checkpoints').mkdir()
    torch.save(
        random_state_dict(dfformer_shapes('dfformer', 's18'), seed=5),
        tmp_path / 'checkpoints' / 'dfformer_s18.pth',
    )
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/train.py'),
            osp.join(repo_root, 'configs/retinanet_dfformer_s18_coco.py'),
            '--cfg-options',
            'train_cfg.max_epochs=1',
            *NO_WORKERS,
            'train_dataloader.dataset.pipeline.2.scale=(160,128)',
            'val_dataloader.dataset.pipeline.1.scale=(160,128)',
            'default_hooks.logger.interval=1',
            'model.test_cfg.score_thr=0.0',
        ],
        cwd=tmp_path,
    )
    assert 'resized 18 filter bases to nominal size (800, 800)' in out
    assert 'DFFormer: loaded checkpoints/dfformer_s18.pth' in out
    assert 'AmpOptimWrapper -> OptimWrapper' in out
    assert 'coco/bbox_mAP' in out


def test_official_dfformer_sfpn_checkpoint_converts_and_evaluates(repo_root, tmp_path):
    """A whole official mmseg 0.x Semantic FPN checkpoint (CDFFormer-S18, bases at 512) ->
    dfformer2mmtokenmix.py --config -> tools/test.py configs/sfpn_cdfformer_s18_ade20k.py."""
    from official_layout import dfformer_dense_shapes, random_state_dict

    _ade_layout(tmp_path)
    src = tmp_path / 'cdfformer_s18_fpn.pth'
    torch.save(
        {
            'meta': {'mmseg_version': '0.29.1'},
            'state_dict': random_state_dict(dfformer_dense_shapes('sfpn', 'cdfformer'), seed=6),
        },
        src,
    )
    config = 'configs/sfpn_cdfformer_s18_ade20k.py'
    out = run_tool(
        [
            sys.executable,
            'tools/model_converters/dfformer2mmtokenmix.py',
            str(src),
            str(tmp_path / 'converted.pth'),
            '--config',
            config,
        ],
        cwd=repo_root,
    )
    assert 'CDFFormer-S18 (whole sfpn model, filter bases for 512 -> 512)' in out
    assert f'matches the model of {config}' in out
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/test.py'),
            osp.join(repo_root, config),
            str(tmp_path / 'converted.pth'),
            '--cfg-options',
            *NO_WORKERS[4:],
        ],
        cwd=tmp_path,
    )
    assert re.search(r'mIoU: \d', out)


def test_classifier_flops_prints_ours_next_to_timm_comparators(repo_root):
    out = run_tool(
        [
            sys.executable,
            'tools/analysis_tools/classifier_flops.py',
            'dmformer_s',
            'poolformer_s24',
            '--size',
            '64',
        ],
        cwd=repo_root,
    )
    rows = {
        line.split('|')[1].strip(): line.split('|')[2].strip()
        for line in out.splitlines()
        if line.startswith('| ') and 'former' in line
    }
    assert rows == {'dmformer_s': '21.45', 'poolformer_s24': '21.39'}
