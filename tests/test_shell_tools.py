"""Every shell tool under tools/ answers ``--help`` with its usage and changes nothing (no
set-up, no environment, no file), and a call with missing or bad arguments gets the usage and
status 2, not a traceback."""

import glob
import os
import os.path as osp
import subprocess

import pytest
from conftest import REPO

SHELL_TOOLS = sorted(osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'tools', '*.sh')))


def _git_status():
    return subprocess.run(
        ['git', 'status', '--porcelain', '--ignored'],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _run(command, tmp_path):
    """``bash -c command`` from the checkout, with a fresh cache, HOME and no venv, no GPU."""
    env = {k: v for k, v in os.environ.items() if k not in ('VIRTUAL_ENV', 'PYTHONPATH')}
    env.update(
        HOME=str(tmp_path / 'home'),
        MMTOKENMIX_CACHE=str(tmp_path / 'cache'),
        XDG_CACHE_HOME=str(tmp_path / 'xdg'),
        MMTOKENMIX_DEVICE='cuda',
    )
    return subprocess.run(
        ['bash', '-c', command], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )


def test_every_shell_tool_is_listed():
    assert SHELL_TOOLS == [
        'tools/demo.sh',
        'tools/dist_test.sh',
        'tools/dist_train.sh',
        'tools/gpu_smoke.sh',
        'tools/run_tests.sh',
        'tools/setup_env.sh',
        'tools/slurm_train.sh',
    ]


@pytest.mark.parametrize('tool', SHELL_TOOLS)
@pytest.mark.parametrize('flag', ['--help', '-h'])
def test_help_prints_the_usage_and_changes_nothing(tool, flag, tmp_path):
    before = _git_status()
    # setup_env.sh is meant to be sourced; the others are run
    command = f'source {tool} {flag}' if tool.endswith('setup_env.sh') else f'bash {tool} {flag}'
    proc = _run(command, tmp_path)
    assert proc.returncode == 0, proc.stderr
    header = open(osp.join(REPO, tool)).read().splitlines()[1].lstrip('# ')
    assert proc.stdout.splitlines()[0] == header
    assert f'{osp.basename(tool)}' in proc.stdout
    assert 'Traceback' not in proc.stdout + proc.stderr
    # nothing was set up, built, removed or written: a GPU request (MMTOKENMIX_DEVICE=cuda)
    # on this machine used to start rebuilding the environment
    assert '[setup]' not in proc.stdout + proc.stderr
    assert not any((tmp_path / d).exists() for d in ('home', 'cache', 'xdg'))
    assert _git_status() == before


@pytest.mark.parametrize(
    'command,message',
    [
        ('bash tools/dist_train.sh', 'needs CONFIG and NUM_PROCS'),
        (
            'bash tools/dist_train.sh configs/retinanet_transxnet_t_toy.py two',
            "NUM_PROCS must be a positive integer, got 'two'",
        ),
        (
            'bash tools/dist_test.sh configs/retinanet_transxnet_t_toy.py ckpt.pth',
            'needs CONFIG, CHECKPOINT and NUM_PROCS',
        ),
        ('bash tools/slurm_train.sh --partition', 'needs PARTITION, JOB_NAME, CONFIG and WORK_DIR'),
        ('bash tools/demo.sh configs/no_such_toy.py', 'no config file configs/no_such_toy.py'),
    ],
)
def test_bad_arguments_get_the_usage_and_status_2(command, message, tmp_path):
    before = _git_status()
    proc = _run(command, tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.rstrip().endswith(f'error: {message}')
    assert 'bash tools/' in proc.stderr and 'Traceback' not in proc.stderr
    assert not (tmp_path / 'cache').exists() and _git_status() == before
