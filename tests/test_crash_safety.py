"""A training run killed at any moment (here: in the middle of writing a checkpoint, with
max_keep_ckpts=1) resumes from the previous checkpoint and ends with exactly the weights of the
run that was never interrupted."""

import os
import os.path as osp
import subprocess
import sys

import pytest
import torch
from conftest import REPO, run_tool

from mmtokenmix.checkpoints import load_checkpoint_file

pytestmark = pytest.mark.slow  # subprocess runs of the tools

# Runs tools/train.py, but the N-th checkpoint write stops half-way with SIGKILL (no cleanup,
# as when a node is pre-empted or the OOM killer strikes); a checkpoint written in place
# (not to a temporary file) ends the run with exit code 3.
KILL_DURING_SAVE = '''
import os, runpy, signal, sys
from mmengine.fileio.backends.local_backend import LocalBackend
kill_at, put, writes = int(sys.argv[1]), LocalBackend.put, []
def put_then_die(self, obj, filepath):
    if str(filepath).endswith('.pth'):  # a checkpoint written in place, not atomically
        sys.stderr.write(f'NON-ATOMIC WRITE {filepath}\\n')
        os._exit(3)
    if str(filepath).endswith('.tmp'):
        writes.append(filepath)
        if len(writes) == kill_at:
            with open(filepath, 'wb') as f:
                f.write(obj[:len(obj) // 2])
            os.kill(os.getpid(), signal.SIGKILL)
    return put(self, obj, filepath)
LocalBackend.put = put_then_die
sys.argv = sys.argv[2:]
runpy.run_path(sys.argv[0], run_name='__main__')
'''

ENV = {'OMP_NUM_THREADS': '1', 'MKL_NUM_THREADS': '1'}  # same threads: same float sums


def _weights(path):
    return load_checkpoint_file(str(path))['state_dict']


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    different = [k for k in wa if not torch.equal(wa[k], wb[k])]
    assert not different, f'{len(different)} tensors differ, e.g. {different[:3]}'


def _kill_during_save(args, kill_at, cwd, tmp_path):
    script = tmp_path / 'kill_during_save.py'
    script.write_text(KILL_DURING_SAVE)
    assert args[0] == sys.executable  # the script runs tools/train.py in its own process
    proc = subprocess.run(
        [sys.executable, str(script), str(kill_at), *map(str, args[1:])],
        cwd=cwd,
        env=dict(os.environ, **ENV),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == -9, proc.stdout[-2000:] + proc.stderr[-3000:]


@pytest.mark.parametrize('kind', ['epoch-based detector', 'iteration-based segmentor'])
def test_kill_during_a_save_then_resume_gives_the_uninterrupted_weights(
    toy_workdir, tmp_path, kind
):
    if kind == 'epoch-based detector':  # the kill while saving epoch_2 (2nd write)
        config, final, previous = 'retinanet_transxnet_t_toy.py', 'epoch_3.pth', 'epoch_1.pth'
        options = [
            'train_cfg.max_epochs=3',
            'train_cfg.val_interval=1',
            'train_dataloader.batch_size=8',
            'model.test_cfg.score_thr=0.0',
        ]
        kill_at, best = 2, []
    else:  # val, checkpoint, best checkpoint every 2 iterations: writes iter_2, best, iter_2
        # again (mmengine re-saves the last checkpoint after a new best), then iter_4
        config, final, previous = 'segformer_transxnet_t_toy.py', 'iter_6.pth', 'iter_2.pth'
        options = [
            'train_cfg.max_iters=6',
            'train_cfg.val_interval=2',
            'default_hooks.checkpoint.interval=2',
            'val_dataloader.batch_size=8',
            'default_hooks.checkpoint.save_best=mIoU',
        ]
        kill_at, best = 4, ['best_mIoU_iter_']
    options += ['default_hooks.checkpoint.max_keep_ckpts=1', 'randomness.deterministic=True']
    train = [sys.executable, osp.join(REPO, 'tools', 'train.py'), osp.join(REPO, 'configs', config)]

    whole = tmp_path / 'uninterrupted'
    run_tool(train + ['--work-dir', whole, '--cfg-options', *options], cwd=toy_workdir, env=ENV)

    killed = tmp_path / 'killed'
    _kill_during_save(
        train + ['--work-dir', killed, '--cfg-options', *options],
        kill_at=kill_at,
        cwd=toy_workdir,
        tmp_path=tmp_path,
    )
    # the kill hit the save after `previous`, which is still there, complete
    assert (killed / 'last_checkpoint').read_text().endswith(previous)
    assert (killed / previous).is_file()
    load_checkpoint_file(str(killed / previous))  # complete and readable

    out = run_tool(
        train + ['--work-dir', killed, '--resume', '--cfg-options', *options],
        cwd=toy_workdir,
        env=ENV,
    )
    assert 'resumed epoch' in out or 'Advance dataloader' in out
    _assert_same_weights(whole / final, killed / final)
    kept = sorted(p.name for p in killed.glob('*.pth'))  # max_keep_ckpts=1, one best
    assert [n for n in kept if not n.startswith('best_')] == [final]
    assert [n[: len(b)] for n in kept for b in best if n.startswith('best_')] == best
    assert not list(killed.glob('.*.tmp'))
