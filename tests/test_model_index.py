"""The model index: metafiles valid, every config listed and building with the parameter count
the metafile states, the model-zoo page current, and the benchmark-table tool producing its
markdown and plot on a small filter."""

import glob
import json
import os.path as osp
import re
import subprocess
import sys

import pytest
from conftest import run_tool

from mmtokenmix.model_index import (
    input_size,
    is_timm_classifier,
    load_model_index,
    measured,
    published,
)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
ENTRIES = load_model_index()
CONFIG_ENTRIES = [e for e in ENTRIES if e['Config']]
CLASSIFIER_ENTRIES = [e for e in ENTRIES if is_timm_classifier(e)]


def test_every_config_is_in_the_index_once_and_every_entry_is_complete():
    configs = sorted(osp.relpath(p, REPO) for p in glob.glob(osp.join(REPO, 'configs', '*.py')))
    listed = [e['Config'] for e in CONFIG_ENTRIES]
    assert sorted(listed) == configs and len(CONFIG_ENTRIES) == len(ENTRIES)
    for e in CLASSIFIER_ENTRIES:  # an ImageNet classifier's config: mmpretrain's, same name
        assert e['Config'] == f'configs/classifier_{e["Metadata"]["timm"]}_in1k.py'
    names = [e['Name'] for e in ENTRIES]
    assert len(names) == len(set(names))
    for e in ENTRIES:
        meta = e['Metadata']
        assert {'Task', 'Training Data', 'Backbone', 'Input Size', 'Parameters'} <= set(meta)
        assert len(input_size(e)) == 2 and isinstance(meta['Parameters'], int)
        assert e['Collection']['Metadata']['Status'] in ('official', 'reconstruction')
        assert 'Paper' not in e  # a model-level Paper is {Title, URL} to mim, never numbers
        for result in e['Results']:
            assert {'Task', 'Dataset', 'Metrics', 'Source'} <= set(result)
            assert result['Metrics'] and all(
                isinstance(v, (int, float)) for v in result['Metrics'].values()
            )
        paper = published(e)
        if 'Results' in paper:  # published numbers: of the benchmark the config is for
            assert isinstance(paper['Verified'], bool) and paper['Source']
            assert e['Results'][0]['Dataset'] == meta['Training Data']
        for result in measured(e):  # our runs only on our toy data, never mixed with COCO's
            assert result['Dataset'] == 'toy (synthetic)' and e['Name'].endswith('_toy')
        if e['Name'].endswith('_toy'):
            assert not paper.get('Results')
    # every family's classifiers are there (the backbone variants of the papers' tables)
    assert {e['Metadata']['timm'] for e in CLASSIFIER_ENTRIES} == {
        'transxnet_t',
        'transxnet_s',
        'transxnet_b',
        'xformer',
        'dmformer_s',
        'dmformer_m',
        'dmformer_b',
    } | {f'{f}_{a}' for f in ('dfformer', 'cdfformer') for a in ('s18', 's36', 'm36', 'b36')}


def test_reconstructions_carry_no_verified_paper_numbers_they_do_not_have():
    for e in ENTRIES:
        if e['In Collection'] == 'DMFormer':
            assert 'Results' not in published(e) and 'Parameters (M)' not in published(e)
            assert not e['Results'] or measured(e) == e['Results']


def test_param_differences_beyond_half_a_percent_are_explained():
    for e in ENTRIES:
        paper = published(e)
        if 'Parameters (M)' in paper:
            delta = abs(e['Metadata']['Parameters'] / 1e6 / paper['Parameters (M)'] - 1)
            assert delta <= 0.005 or paper.get('Note'), e['Name']


@pytest.mark.parametrize('entry', CLASSIFIER_ENTRIES, ids=lambda e: e['Name'])
def test_classifier_params_equal_the_metafile(entry):
    timm = pytest.importorskip('timm')
    import mmtokenmix.models  # noqa: F401

    model = timm.create_model(entry['Metadata']['timm'])
    assert sum(p.numel() for p in model.parameters()) == entry['Metadata']['Parameters']


def test_metafiles_follow_the_openmmlab_schema_as_mim_reads_it(repo_root):
    """Loaded with ``modelindex`` (the parser mim's search uses): no schema errors, the
    collections' Code is {URL, Version}, official weights are named as Converted From."""
    modelindex = pytest.importorskip('modelindex')
    import mmtokenmix
    from mmtokenmix.checkpoints.official import OFFICIAL_CHECKPOINTS

    index = modelindex.load(osp.join(repo_root, 'model-index.yml'))
    index.build_models_with_collections()
    errors = index.check(silent=True) if hasattr(index, 'check') else []
    assert not errors, errors
    models = {m.name: m for m in index.models}
    assert set(models) == {e['Name'] for e in ENTRIES}
    coco = models['retinanet_transxnet_t_coco']
    assert [(r.task, r.dataset, r.metrics) for r in coco.results] == [
        ('Object Detection', 'COCO', {'box AP': 43.1})
    ]
    toy = models['retinanet_transxnet_t_toy']
    assert [r.dataset for r in toy.results] == ['toy (synthetic)']
    for e in ENTRIES:
        code = e['Collection']['Code']
        assert set(code) == {'URL', 'Version'} and code['Version'] == mmtokenmix.__version__
        assert osp.isfile(osp.join(repo_root, code['URL']))
        assert all(isinstance(v, (str, int, float, list)) for v in e['Metadata'].values())
        assert isinstance(e['Metadata']['Input Size'], str)
    converted = {e['Name']: e['Converted From'] for e in ENTRIES if 'Converted From' in e}
    for entry in OFFICIAL_CHECKPOINTS.values():
        if entry.index_name:
            assert converted[entry.index_name]['Weights'] == entry.url
            assert converted[entry.index_name]['Code'].startswith('https://github.com/')


def test_model_zoo_page_is_generated_from_the_metafiles(repo_root):
    out = run_tool(
        [sys.executable, 'tools/analysis_tools/model_zoo_table.py', '--check'], cwd=repo_root
    )
    assert 'matches the metafiles' in out


def test_benchmark_table_writes_markdown_and_plot_for_a_filter(repo_root, tmp_path):
    out_md = tmp_path / 'benchmarks.md'
    out = run_tool(
        [
            sys.executable,
            'tools/analysis_tools/benchmark_table.py',
            '--filter',
            '^(xformer|sfpn_dmformer_s_toy)$',
            '--speed-filter',
            '^xformer$',
            '--warmup',
            '0',
            '--repeats',
            '1',
            '--work-dirs',
            str(tmp_path / 'none'),
            '--out',
            str(out_md),
        ],
        cwd=repo_root,
    )
    assert '2 measured, 0 not measured' in out
    text = out_md.read_text()
    assert (tmp_path / 'benchmarks.png').stat().st_size > 10_000
    rows = {
        line.split('|')[1].strip(): [c.strip() for c in line.split('|')[2:-1]]
        for line in text.splitlines()
        if line.startswith('| ') and 'former' in line
    }
    xf = rows['`xformer` (timm)']
    # params ours / paper / delta, the explanation of the delta, paper top-1
    assert xf[2:5] == ['5.54', '5.5', '+0.67 %'] and xf[-1].startswith('+0.7 %: the paper rounds')
    assert xf[-2] == 'Top 1 Accuracy 78.5' and float(xf[8]) > 0 and float(xf[9]) > 0
    seg = rows['[sfpn_dmformer_s_toy](../configs/sfpn_dmformer_s_toy.py)']
    assert seg[1] == '128×128' and seg[2] == '21.41' and seg[3] == '—'
    # the metafile's recorded run
    (recorded,) = measured(next(e for e in ENTRIES if e['Name'] == 'sfpn_dmformer_s_toy'))
    assert seg[-3].startswith(f'mIoU {recorded["Metrics"]["mIoU"]} (toy (synthetic))')
    assert seg[8:10] == ['skipped (not in --speed-filter)'] * 2  # measured, not timed
    assert float(seg[5]) > 0 and float(seg[10]) > 0  # GFLOPs and peak memory
    run = json.loads((tmp_path / 'benchmarks.json').read_text())
    assert {r['name'] for r in run['results']} == {'xformer', 'sfpn_dmformer_s_toy'}
    assert run['batch_sizes'] == [1, 2] and run['repeats'] == 1 and run['wall_s'] > 0
    assert re.search(r'wall time \d+\.\d min', text)


def test_benchmark_table_reports_finished_runs_and_what_it_could_not_measure(repo_root, tmp_path):
    run = tmp_path / 'work_dirs' / 'sfpn_dmformer_s_toy' / '20260101_000000'
    run.mkdir(parents=True)
    (run / '20260101_000000.json').write_text(json.dumps({'aAcc': 90.0, 'mIoU': 51.25}))
    out_md = tmp_path / 'b.md'
    out = run_tool(
        [
            sys.executable,
            'tools/analysis_tools/benchmark_table.py',
            '--filter',
            '^sfpn_dmformer_s_toy$',
            '--no-speed',
            '--timeout',
            '1',
            '--work-dirs',
            str(tmp_path / 'work_dirs'),
            '--out',
            str(out_md),
        ],
        cwd=repo_root,
    )
    assert '0 measured, 1 not measured' in out and 'timed out after 1 s' in out
    assert 'not measured: timed out after 1 s' in out_md.read_text()
    out = run_tool(
        [
            sys.executable,
            'tools/analysis_tools/benchmark_table.py',
            '--filter',
            '^sfpn_dmformer_s_toy$',
            '--no-speed',
            '--work-dirs',
            str(tmp_path / 'work_dirs'),
            '--out',
            str(out_md),
        ],
        cwd=repo_root,
    )
    text = out_md.read_text()
    assert 'skipped (--no-speed)' in text and 'mIoU 51.25 (' in text

    # render again from the saved measurements: nothing is measured, a newer finished run shows
    # up, and a model the file lacks is reported, not filled in
    saved = json.loads((tmp_path / 'b.json').read_text())
    (run / '20260101_000000.json').write_text(json.dumps({'aAcc': 91.0, 'mIoU': 60.5}))
    out = run_tool(
        [
            sys.executable,
            'tools/analysis_tools/benchmark_table.py',
            '--filter',
            '^(sfpn_dmformer_s_toy|xformer)$',
            '--reuse',
            str(tmp_path / 'b.json'),
            '--work-dirs',
            str(tmp_path / 'work_dirs'),
            '--out',
            str(out_md),
        ],
        cwd=repo_root,
    )
    assert '1 measured, 1 not measured (from ' in out
    text = out_md.read_text()
    assert 'mIoU 60.5 (' in text and f'not measured: not in {tmp_path / "b.json"}' in text
    assert f'| {saved["results"][0]["params"] / 1e6:.2f} |' in text
    assert 'Measured by `python tools/analysis_tools/benchmark_table.py --filter' in text
    assert json.loads((tmp_path / 'b.json').read_text()) == saved  # the measurements stay

    # options that only shape a measurement, and a file that is not a saved run, are refused
    (tmp_path / 'list.json').write_text(json.dumps(saved['results']))
    for extra, message in (
        (['--reuse', str(tmp_path / 'b.json'), '--no-speed'], '--no-speed would not be applied'),
        (['--reuse', str(tmp_path / 'list.json')], 'is not a run saved by this tool'),
    ):
        proc = subprocess.run(
            [
                sys.executable,
                'tools/analysis_tools/benchmark_table.py',
                '--out',
                str(tmp_path / 'c.md'),
                *extra,
            ],
            cwd=repo_root,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode != 0 and message in proc.stderr
        assert not (tmp_path / 'c.md').exists()


def generated_run_tables(page: str, section: str):
    """(runs, groups) of a toy_runs_table.py section: work dir name -> (main metric, value, other
    final metrics), and group name -> (metric, mean, std)."""
    text = open(osp.join(REPO, page)).read()
    body = text.split(f'<!-- {section}:start -->', 1)[1].split(f'<!-- {section}:end -->', 1)[0]
    runs, groups = {}, {}
    for line in body.splitlines():
        cells = [c.strip() for c in line.strip('|').split('|')]
        if line.startswith('| work_dirs/') and len(cells) >= 10:
            metric, value = cells[8].split()
            others = dict(re.findall(r'([\w/]+) ([\d.]+)', cells[10])) if len(cells) > 10 else {}
            runs[osp.basename(cells[0])] = (metric, float(value), others)
        match = re.fullmatch(r'\| (\S+)_s\* \| \d+ \| (\S+) ([\d.]+) ± ([\d.]+) \|.*', line)
        if match:
            name, metric, mean, std = match.groups()
            groups[name] = (metric, float(mean), float(std))
    return runs, groups


def test_the_index_holds_the_toy_runs_of_the_generated_tables():
    """Every toy entry's results are the runs that docs/training.md's generated table (seed 0
    of each toy config; the default toy's seeds as mean and std) and docs/pretraining.md's (the
    toy classifier's seeds) show, so the index and the docs cannot disagree."""
    runs, groups = generated_run_tables('docs/training.md', 'toy-runs')
    _, pretraining = generated_run_tables('docs/pretraining.md', 'pretrain-finetune-seeds')
    # the entries given as a seed group: entry name -> group
    seed_groups = {
        'retinanet_transxnet_t_toy': groups['retinanet_transxnet_t_toy'],
        'classifier_transxnet_t_toy': pretraining['pretrain'],
    }
    names = {
        'coco/bbox_mAP': 'box AP',
        'coco/segm_mAP': 'mask AP',
        'mIoU': 'mIoU',
        'accuracy/top1': 'Top 1 Accuracy',
    }
    scale = {'coco/bbox_mAP': 100, 'coco/segm_mAP': 100, 'mIoU': 1, 'accuracy/top1': 1}
    toy_entries = [e for e in ENTRIES if e['Name'].endswith('_toy')]
    assert len(toy_entries) == 11
    for e in toy_entries:
        name = e['Name']
        if name in seed_groups:
            metric, mean, std = seed_groups[name]
            expected = {
                names[metric]: round(mean * scale[metric], 1),
                f'{names[metric]} std': round(std * scale[metric], 1),
            }
        else:
            metric, value, others = runs[f'{name}_s0']
            expected = {names[metric]: round(value * scale[metric], 1)}
            if metric == 'coco/segm_mAP':
                expected['box AP'] = round(float(others['bbox_mAP']) * 100, 1)
        assert [r['Metrics'] for r in measured(e)] == [expected], name
