"""How the tools share a CPU machine's cores between the processes of a distributed run."""

import pytest

from mmtokenmix.threads import threads_per_process


@pytest.mark.parametrize(
    'environ,cores,expected',
    [
        ({'LOCAL_WORLD_SIZE': '2'}, 2, 1),  # torchrun, 2 processes on 2 cores
        ({'LOCAL_WORLD_SIZE': '4'}, 16, 4),
        ({'LOCAL_WORLD_SIZE': '3'}, 2, 1),  # never 0
        ({'SLURM_NTASKS_PER_NODE': '2(x3)'}, 8, 4),  # slurm's per-node form
        ({'OMPI_COMM_WORLD_LOCAL_SIZE': '2'}, 8, 4),  # mpirun
    ],
)
def test_distributed_processes_share_the_cores(environ, cores, expected):
    assert threads_per_process('pytorch', environ, cores) == expected


@pytest.mark.parametrize(
    'launcher,environ',
    [
        ('none', {'LOCAL_WORLD_SIZE': '2'}),  # a single process keeps torch's default
        ('pytorch', {'LOCAL_WORLD_SIZE': '2', 'OMP_NUM_THREADS': '3'}),  # the user's choice wins
        ('pytorch', {'LOCAL_WORLD_SIZE': '1'}),
        ('pytorch', {}),
    ],
)
def test_threads_are_left_alone_otherwise(launcher, environ):
    assert threads_per_process(launcher, environ, 8) is None


def test_dist_scripts_give_each_process_its_share_of_the_cores(repo_root, tmp_path):
    """dist_train.sh / dist_test.sh set OMP_NUM_THREADS = cores / processes before torchrun
    (which would otherwise give every process 1 thread, or torch all cores)."""
    import os
    import subprocess

    fake = tmp_path / 'bin'
    fake.mkdir()
    (fake / 'python').write_text('#!/bin/sh\necho "threads=$OMP_NUM_THREADS"\n')
    (fake / 'python').chmod(0o755)
    (fake / 'nproc').write_text('#!/bin/sh\necho 8\n')
    (fake / 'nproc').chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'}
    env['PATH'] = f'{fake}:{env["PATH"]}'
    for script, args in (
        ('dist_train.sh', ['cfg.py', '2']),
        ('dist_test.sh', ['cfg.py', 'ckpt.pth', '4']),
    ):
        out = subprocess.run(
            ['bash', os.path.join(repo_root, 'tools', script), *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert out.strip() == f'threads={8 // int(args[-1])}'
    out = subprocess.run(
        ['bash', os.path.join(repo_root, 'tools/dist_train.sh'), 'c.py', '2'],
        env=dict(env, OMP_NUM_THREADS='3'),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == 'threads=3'
