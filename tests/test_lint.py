"""The repository's lint and format (ruff.toml) and its pre-commit hooks
(.pre-commit-config.yaml), run on every file as CI runs them."""

import os
import os.path as osp
import subprocess
import sys

import pytest
from conftest import REPO


def _run(args, **kwargs):
    env = dict(os.environ)
    # the hooks call `ruff` by name: the one of this environment
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + env.get('PATH', '')
    env.update(kwargs.pop('env', {}))
    return subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True, timeout=600, **kwargs
    )


def test_ruff_finds_no_lint_or_import_order_problem():
    proc = _run([sys.executable, '-m', 'ruff', 'check', '--no-cache', '.'])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


def test_ruff_format_would_change_no_file():
    proc = _run([sys.executable, '-m', 'ruff', 'format', '--check', '--no-cache', '.'])
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]


@pytest.mark.skipif(not osp.isdir(osp.join(REPO, '.git')), reason='pre-commit needs a git clone')
def test_pre_commit_hooks_pass_on_every_file(tmp_path):
    proc = _run(
        [sys.executable, '-m', 'pre_commit', 'run', '--all-files', '--show-diff-on-failure'],
        env=dict(PRE_COMMIT_HOME=str(tmp_path / 'pre-commit-home')),
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-2000:]
    for hook in ('ruff check', 'ruff format --check', 'no trailing whitespace'):
        assert hook in proc.stdout and 'Passed' in proc.stdout, proc.stdout
