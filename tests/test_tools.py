"""The user-facing tools, run as subprocesses exactly like the README shows."""
import json
import os.path as osp
import re
import subprocess
import sys
import time

import torch
from conftest import free_port, run_tool

TOY_CONFIG = 'configs/retinanet_transxnet_t_toy.py'
# short runs: 16 toy images in batches of 4, evaluation only at the end; after a few iterations
# no score passes the default 0.05 threshold, so keep every box for the evaluator to score
SHORT = ['train_dataloader.batch_size=4', 'default_hooks.logger.interval=1',
         'log_processor.window_size=1', 'model.test_cfg.score_thr=0.0']


def _cfg(repo_root):
    return osp.join(repo_root, TOY_CONFIG)


def test_train_then_test_on_toy_data(repo_root, toy_workdir):
    work = str(toy_workdir / 'work_train')
    out = run_tool([sys.executable, osp.join(repo_root, 'tools/train.py'), _cfg(repo_root),
                    '--work-dir', work, '--cfg-options', 'train_cfg.max_epochs=2',
                    'train_cfg.val_interval=2', *SHORT], cwd=toy_workdir)
    assert 'Epoch(train) [2][4/4]' in out
    assert 'coco/bbox_mAP' in out
    ckpt = osp.join(work, 'epoch_2.pth')
    assert osp.isfile(ckpt)
    out = run_tool([sys.executable, osp.join(repo_root, 'tools/test.py'), _cfg(repo_root),
                    ckpt, '--work-dir', str(toy_workdir / 'work_test'),
                    '--out', str(toy_workdir / 'preds.pkl'),
                    '--cfg-options', 'model.test_cfg.score_thr=0.0'], cwd=toy_workdir)
    assert re.search(r'Average Precision  \(AP\) @\[ IoU=0.50:0.95 \| area=   all', out)
    assert 'coco/bbox_mAP' in out
    import pickle
    preds = pickle.load(open(toy_workdir / 'preds.pkl', 'rb'))
    assert len(preds) == 8 and 'pred_instances' in preds[0]


def test_two_process_gloo_training_and_testing_with_dist_scripts(repo_root, toy_workdir):
    work = str(toy_workdir / 'work_dist')
    out = run_tool(['bash', osp.join(repo_root, 'tools/dist_train.sh'), _cfg(repo_root), '2',
                    '--work-dir', work, '--cfg-options', 'train_cfg.max_epochs=1',
                    'train_cfg.val_interval=1', *SHORT],
                   cwd=toy_workdir, env={'PORT': str(free_port()), 'OMP_NUM_THREADS': '1'})
    assert 'Distributed training: True' in out
    assert 'GPU number: 2' in out  # mmengine's name for the world size
    assert "'backend': 'gloo'" in out
    # 16 images, 2 processes x 4 images: 2 iterations per epoch
    assert 'Epoch(train) [1][2/2]' in out
    ckpt = osp.join(work, 'epoch_1.pth')
    assert osp.isfile(ckpt)
    out = run_tool(['bash', osp.join(repo_root, 'tools/dist_test.sh'), _cfg(repo_root), ckpt, '2',
                    '--work-dir', str(toy_workdir / 'work_dist_test'),
                    '--cfg-options', 'model.test_cfg.score_thr=0.0'],
                   cwd=toy_workdir, env={'PORT': str(free_port()), 'OMP_NUM_THREADS': '1'})
    assert 'GPU number: 2' in out
    assert 'Epoch(test) [1/1]' in out  # 8 val images split over 2 ranks: one batch each
    assert 'coco/bbox_mAP' in out


def test_killed_run_resumes_and_finishes_its_schedule(repo_root, toy_workdir):
    work = toy_workdir / 'work_resume'
    args = [sys.executable, osp.join(repo_root, 'tools/train.py'), _cfg(repo_root),
            '--work-dir', str(work), '--cfg-options', 'train_cfg.max_epochs=4',
            'train_cfg.val_interval=4', *SHORT]
    proc = subprocess.Popen(args, cwd=toy_workdir, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
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
    final = torch.load(work / 'epoch_4.pth', map_location='cpu', weights_only=False)
    assert final['meta']['epoch'] == 4 and final['meta']['iter'] == 16


def test_leaf_config_trains_from_an_official_checkpoint(repo_root, tmp_path):
    """`python tools/train.py configs/retinanet_transxnet_t_coco.py` with COCO-format data
    under data/coco and the official ImageNet file under checkpoints/ (both synthetic here)."""
    from mmdet.datasets import CocoDataset
    from official_layout import official_shapes, random_state_dict

    from mmtokenmix.datasets import make_toy_dataset
    coco = tmp_path / 'data' / 'coco'
    make_toy_dataset(str(tmp_path / 'toy'), num_train=4, num_val=2, seed=2)
    (coco / 'annotations').mkdir(parents=True)
    for split in ('train', 'val'):
        (tmp_path / 'toy' / 'images' / split).rename(coco / f'{split}2017')
        ann = json.load(open(tmp_path / 'toy' / 'annotations' / f'instances_{split}.json'))
        # the 80 COCO categories (the toy shapes become the first three), as in real COCO
        ann['categories'] = [dict(id=i + 1, name=name)
                             for i, name in enumerate(CocoDataset.METAINFO['classes'])]
        json.dump(ann, open(coco / 'annotations' / f'instances_{split}2017.json', 'w'))
    (tmp_path / 'checkpoints').mkdir()
    torch.save({'state_dict': random_state_dict(official_shapes('t'))},
               tmp_path / 'checkpoints' / 'transx-t.pth.tar')
    out = run_tool([sys.executable, osp.join(repo_root, 'tools/train.py'),
                    osp.join(repo_root, 'configs/retinanet_transxnet_t_coco.py'),
                    '--cfg-options', 'train_cfg.max_epochs=1',
                    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                    'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
                    'train_dataloader.dataset.pipeline.2.scale=(160,128)',
                    'val_dataloader.dataset.pipeline.1.scale=(160,128)',
                    'default_hooks.logger.interval=1', 'model.test_cfg.score_thr=0.0'],
                   cwd=tmp_path)
    assert 'TransXNet: loaded checkpoints/transx-t.pth.tar' in out
    assert 'coco/bbox_mAP' in out
    assert (tmp_path / 'work_dirs' / 'retinanet_transxnet_t_coco' / 'epoch_1.pth').is_file()
