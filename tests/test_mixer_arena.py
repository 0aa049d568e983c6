"""tools/analysis_tools/mixer_arena.py end to end on a tiny setting, and its resuming."""

import json
import os.path as osp
import re
import sys

import pytest
from conftest import run_tool

pytestmark = pytest.mark.slow  # training runs in subprocesses


def test_arena_trains_every_variant_writes_table_and_plots_skips_finished_runs_resumes_killed(
    repo_root, toy_workdir
):
    tool = osp.join(repo_root, 'tools/analysis_tools/mixer_arena.py')
    args = [
        sys.executable,
        tool,
        '--mixers',
        'sepconv',
        'dma',
        '--seeds',
        '0',
        '--det-epochs',
        '1',
        '--seg-iters',
        '3',
        '--sizes',
        '64',
        '--repeats',
        '1',
        '--jobs',
        '2',  # two trainings at once, one thread each
        '--work-dir',
        'arena',
        '--out',
        'arena_docs/arena.md',
    ]
    out = run_tool(args, cwd=toy_workdir, env=dict(OMP_NUM_THREADS='1'))
    work = toy_workdir / 'arena'
    for task in ('det', 'seg'):
        for mixer in ('sepconv', 'dma'):
            result = json.load(open(work / task / mixer / 'seed0' / 'result.json'))
            assert result['task'] == task and result['mixer'] == mixer
            assert 0 <= result['metric'] <= (1 if task == 'det' else 100)
            config = (work / task / mixer / 'seed0' / 'arena_config.py').read_text()
            assert f"arch='{mixer}-toy'" in config  # the variant, in the task's toy recipe
    assert re.search(r'^sepconv at 64x64: [\d.]+ img/s, \d+ MiB$', out, re.M)
    table = (toy_workdir / 'arena_docs' / 'arena.md').read_text()
    rows = {
        line.split('|')[1].strip(): line
        for line in table.splitlines()
        if line.startswith('| sepconv') or line.startswith('| dma')
    }
    assert set(rows) == {'sepconv', 'dma'}
    params = float(rows['dma'].split('|')[2])
    assert abs(params - 5.0) <= 0.15  # the matched toy budget
    for name in ('arena_accuracy.png', 'arena_scaling.png'):
        assert (toy_workdir / 'arena_docs' / name).stat().st_size > 10_000
    # a second invocation reuses every finished run and measurement: nothing is trained again
    done_before = {p: p.stat().st_mtime for p in work.glob('*/*/seed0/result.json')}
    out = run_tool(args, cwd=toy_workdir, env=dict(OMP_NUM_THREADS='1'))
    assert out.count('done before, skipped') == 4
    assert 'img/s' not in out.split('table ->')[0]  # speed read back, not measured
    assert {p: p.stat().st_mtime for p in work.glob('*/*/seed0/result.json')} == done_before
    # a run killed after iteration 2 of 3 (last checkpoint iter_2, no result) resumes there
    killed = work / 'seg' / 'dma' / 'seed0'
    (killed / 'result.json').unlink()
    (killed / 'iter_3.pth').unlink()
    (killed / 'last_checkpoint').write_text(str(killed / 'iter_2.pth'))
    log_before = (killed / 'train.log').read_text()
    out = run_tool(args, cwd=toy_workdir, env=dict(OMP_NUM_THREADS='1'))
    assert 'seg dma seed 0: resuming' in out and out.count('done before, skipped') == 3
    resumed_log = (killed / 'train.log').read_text()[len(log_before) :]
    assert 'resumed epoch: 0, iter: 2' in resumed_log
    assert 'Saving checkpoint at 3 iterations' in resumed_log  # trained on from iteration 2
    assert 'Saving checkpoint at 1 iterations' not in resumed_log
    assert json.load(open(killed / 'result.json'))['length'] == 3
