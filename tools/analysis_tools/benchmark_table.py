"""Regenerate the benchmark tables: params, FLOPs, speed, memory and results of every model in
the model index (model-index.yml), side by side with the papers' numbers.

    python tools/analysis_tools/benchmark_table.py [--filter REGEX] [--speed-filter REGEX]
        [--no-speed] [--reuse docs/benchmarks.json]
        [--batch-sizes 1 2] [--warmup 1] [--repeats 3] [--device cpu|cuda]
        [--work-dirs work_dirs] [--out docs/benchmarks.md] [--plot docs/benchmarks.png]

For each entry (a config, or a timm classifier), in a fresh process
(``tools/analysis_tools/measure_model.py NAME``, which prints one entry's measurements as JSON):
* params of the built model, FLOPs of one image at the papers' input size (``Input Size``)
  with mmengine's counter and with the hook counter that follows mmcv 1.x's rules
  (``mmtokenmix.analysis``; the papers of that era counted this way: no attention matmuls,
  softmax, FFT or GELU);
* network-forward throughput (images / s, ``mode='tensor'`` for detectors/segmentors, no data
  pipeline, no NMS) at each batch size: ``--warmup`` untimed forwards, then the median of
  ``--repeats`` timed ones; random weights;
* peak memory of the first forward at batch 1 beyond the built model and input
  (CUDA: ``max_memory_allocated``; CPU: peak resident set, VmHWM);
* our result: the newest test/val metrics json under ``<work-dirs>/<name>/`` if a run exists,
  else our runs among the metafile's ``Results``.
``--speed-filter`` times only the entries it matches (on a CPU the COCO detectors at
1333×800 take minutes each) and ``--no-speed`` times none; everything else is measured for every
entry. An entry that cannot be measured (build error, timeout, speed not asked for) is listed
with the reason; no number is ever filled in from elsewhere. Writes the markdown tables (grouped
by family and task, paper vs ours with deltas), a params-vs-FLOPs plot and the measurements with
their settings as .json; ``--reuse`` renders from such a .json without measuring again (the
results column is read afresh, so finished training runs show up in seconds).
"""

import argparse
import glob
import json
import os
import os.path as osp
import re
import subprocess
import sys
import time

from mmtokenmix.model_index import (
    input_size,
    is_timm_classifier,
    load_model_index,
    measured,
    published,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# measures one entry and prints its JSON; run in a fresh process per entry
MEASURE_TOOL = osp.join(osp.dirname(osp.abspath(__file__)), 'measure_model.py')

# how finished runs report their metrics -> the names (and scale) the papers use
METRIC_KEYS = {
    'coco/bbox_mAP': ('box AP', 100),
    'coco/segm_mAP': ('mask AP', 100),
    'mIoU': ('mIoU', 1),
    'accuracy/top1': ('Top 1 Accuracy', 1),
}
# options that change what is measured, meaningless when rendering a saved run (--reuse)
MEASURING_OPTIONS = (
    'speed_filter',
    'no_speed',
    'batch_sizes',
    'warmup',
    'repeats',
    'device',
    'timeout',
)
PARAM_TOLERANCE = 0.5  # percent; larger differences need a Note in the metafile


def finished_result(work_dirs: str, name: str):
    """(metrics, json path) of the newest evaluation json of ``work_dirs/name``, or None."""
    found = []
    for path in glob.glob(osp.join(work_dirs, name, '**', '*.json'), recursive=True):
        try:
            with open(path) as f:
                data = json.load(f)
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and any(k in data for k in METRIC_KEYS):
            found.append((osp.getmtime(path), path, data))
    if not found:
        return None
    _, path, data = max(found)
    metrics = {
        label: round(data[key] * scale, 2)
        for key, (label, scale) in METRIC_KEYS.items()
        if key in data and data[key] >= 0
    }
    return metrics, path


def _fmt(value, digits=2):
    return '—' if value is None else f'{value:.{digits}f}'


def _metrics(metrics: dict) -> str:
    return ' / '.join(f'{k} {v}' for k, v in metrics.items()) if metrics else '—'


def param_cells(entry: dict, params: int):
    """(paper params, delta, note) cells; a difference beyond PARAM_TOLERANCE without an
    explanation in the metafile is flagged, never hidden."""
    paper = published(entry)
    note = paper.get('Note', '')
    if 'Parameters (M)' not in paper:
        return '—', '—', note
    theirs = paper['Parameters (M)']
    delta = (params / 1e6 / theirs - 1) * 100
    if abs(delta) > PARAM_TOLERANCE and not note:
        note = f'UNEXPLAINED: differs by more than {PARAM_TOLERANCE} %'
    return f'{theirs:g}', f'{delta:+.2f} %', note


def row(entry: dict, r: dict, batch_sizes, work_dirs: str) -> str:
    paper = published(entry)
    h, w = input_size(entry)
    name = entry['Name']
    link = f'`{name}` (timm)' if is_timm_classifier(entry) else f'[{name}](../{entry["Config"]})'
    if 'error' in r:
        return (
            f'| {link} | {entry["Metadata"]["Backbone"]} | {h}×{w} | not measured: '
            f'{r["error"]} |' + ' |' * 12
        )
    paper_p, delta, note = param_cells(entry, r['params'])
    if 'FLOPs (G)' in paper:
        paper_flops = f'{paper["FLOPs (G)"]:g} ({paper["FLOPs Counter"]})'
    else:
        paper_flops = '—'
    speeds = r.get('images_per_s')
    speed_cells = [
        (_fmt(speeds.get(str(b)), 3) if speeds else r.get('speed_skipped', '—'))
        for b in batch_sizes
    ]
    finished = finished_result(work_dirs, name)
    if finished:
        ours = f'{_metrics(finished[0])} ({osp.relpath(finished[1], REPO)})'
    else:
        ours = (
            '; '.join(f'{_metrics(x["Metrics"])} ({x["Dataset"]})' for x in measured(entry)) or '—'
        )
    theirs = _metrics(paper.get('Results', {}))
    if theirs != '—' and not paper.get('Verified', True):
        theirs += ' (unverified)'
    return (
        f'| {link} | {entry["Metadata"]["Backbone"]} | {h}×{w} | {r["params"] / 1e6:.2f} | '
        f'{paper_p} | {delta} | {r["flops"] / 1e9:.1f} | {r["hook_flops"] / 1e9:.1f} | '
        f'{paper_flops} | ' + ' | '.join(speed_cells) + f' | {_fmt(r.get("peak_mib"), 0)} | '
        f'{ours} | {theirs} | {note} |'
    )


def write_markdown(entries, run: dict, args) -> str:
    bs = run['batch_sizes']
    measured = (
        f'`{run["command"]}` on {run["date"]}, device: {run["device"]}, wall time '
        f'{run["wall_s"] / 60:.1f} min. Random weights.'
    )
    if 'reused_from' in run:
        generated = (
            f'Measured by {measured} Rendered from `{run["reused_from"]}` by '
            f'`{command_line(args)}` on {time.strftime("%Y-%m-%d")}.'
        )
    else:
        generated = f'Generated by {measured}'
    lines = [
        '# Benchmarks',
        '',
        generated,
        '',
        '* **params**: of the built model; the paper\'s where known, Δ = ours / paper − 1. '
        f'Differences over {PARAM_TOLERANCE} % are explained in the notes column.',
        '* **GFLOPs** of one image at the input size shown (the papers\' sizes): mmengine\'s '
        'counter (every operator) and the hook counter with mmcv 1.x\'s rules (what most papers '
        'report; no attention matmuls, softmax, FFT, GELU). The paper\'s counter is named.',
        '* **img/s**: network forward only (`mode=\'tensor\'`), batch '
        f'{" and ".join(map(str, bs))}, {run["warmup"]} warm-up + median of {run["repeats"]}; '
        '**peak MiB**: first forward at '
        'batch 1 beyond model + input.',
        '* **ours**: newest evaluation under `work_dirs/<config>/` if a run exists, else the '
        'metafile\'s recorded runs; **paper**: from the papers and official repositories '
        '(unverified numbers are marked).',
        '',
    ]
    header = (
        '| model | backbone | input | params (M) | paper params (M) | Δ params | GFLOPs | '
        'hook GFLOPs | paper GFLOPs | '
        + ' | '.join(f'img/s b{b}' for b in bs)
        + ' | peak MiB | ours | paper | notes |'
    )
    sep = '|' + '---|' * (12 + len(bs))
    by_name = {r['name']: r for r in run['results']}
    for collection in dict.fromkeys(e['In Collection'] for e in entries):
        coll_entries = [e for e in entries if e['In Collection'] == collection]
        status = coll_entries[0]['Collection']['Metadata']['Status']
        paper = coll_entries[0]['Collection']['Paper']
        lines += [f'## {collection} ({status})', '', f'{paper["Title"]}, {paper["URL"]}', '']
        for task in dict.fromkeys(e['Metadata']['Task'] for e in coll_entries):
            lines += [f'### {task}', '', header, sep]
            for e in coll_entries:
                if e['Metadata']['Task'] == task:
                    lines.append(row(e, by_name[e['Name']], bs, args.work_dirs))
            lines.append('')
    lines += [f'![params vs FLOPs]({osp.basename(args.plot)})', '']
    return '\n'.join(lines)


def plot(entries, results, path):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    by_name = {r['name']: r for r in results}
    fig, ax = plt.subplots(figsize=(8, 5.5))
    markers = dict(zip(dict.fromkeys(e['Metadata']['Task'] for e in entries), 'os^Dv<>'))
    colours = dict(
        zip(
            dict.fromkeys(e['In Collection'] for e in entries),
            ['tab:blue', 'tab:orange', 'tab:green', 'tab:red', 'tab:purple'],
        )
    )
    seen = set()
    for e in entries:
        r = by_name[e['Name']]
        if 'error' in r:
            continue
        family, task = e['In Collection'], e['Metadata']['Task']
        label = f'{family} · {task}'
        ax.scatter(
            r['flops'] / 1e9,
            r['params'] / 1e6,
            c=colours[family],
            marker=markers[task],
            label=None if label in seen else label,
        )
        seen.add(label)
    ax.set_xscale('log')
    ax.set_yscale('log')
    ax.set_xlabel('GFLOPs at the paper input size (mmengine counter)')
    ax.set_ylabel('parameters (M)')
    ax.grid(True, which='both', alpha=0.3)
    ax.legend(fontsize=7)
    ax.set_title('mmtokenmix models: parameters vs FLOPs')
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def describe(device: str) -> str:
    """The device as the table header names it (the timings depend on it)."""
    import torch

    if device == 'cuda':
        return torch.cuda.get_device_name()
    return f'CPU, {torch.get_num_threads()} threads'


def speed_skip_reason(args, name: str):
    """Why ``name`` is not timed, or None when it is."""
    if args.no_speed:
        return 'skipped (--no-speed)'
    if args.speed_filter and not re.search(args.speed_filter, name):
        return 'skipped (not in --speed-filter)'
    return None


def command_line(args) -> str:
    """The options that shaped the table, as a user would type them."""
    parts = ['python tools/analysis_tools/benchmark_table.py']
    for option in ('filter', 'speed_filter', 'reuse'):
        if getattr(args, option):
            parts.append(f"--{option.replace('_', '-')} '{getattr(args, option)}'")
    if args.no_speed:
        parts.append('--no-speed')
    return ' '.join(parts)


def measure_all(entries, args, device: str) -> dict:
    """Measure every entry in its own process; the run's settings travel with the results."""
    from mmengine.utils import ProgressBar

    start = time.time()
    results = []
    bar = ProgressBar(len(entries))
    for entry in entries:
        cmd = [
            sys.executable,
            MEASURE_TOOL,
            entry['Name'],
            '--index',
            args.index,
            '--device',
            device,
            '--warmup',
            str(args.warmup),
            '--repeats',
            str(args.repeats),
            '--batch-sizes',
            *map(str, args.batch_sizes),
        ]
        speed_skipped = speed_skip_reason(args, entry['Name'])
        if speed_skipped:
            cmd.append('--no-speed')
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            lines = proc.stdout.strip().splitlines()
            if proc.returncode == 0 and lines:
                result = json.loads(lines[-1])
            else:
                last = (proc.stderr.strip().splitlines() or ['no output'])[-1]
                result = dict(name=entry['Name'], error=f'exit {proc.returncode}: {last[:200]}')
        except subprocess.TimeoutExpired:
            result = dict(name=entry['Name'], error=f'timed out after {args.timeout} s')
        if speed_skipped and 'error' not in result:
            result['speed_skipped'] = speed_skipped
        results.append(result)
        bar.update()
    sys.stdout.write('\n')
    return dict(
        command=command_line(args),
        date=time.strftime('%Y-%m-%d'),
        device=describe(device),
        wall_s=round(time.time() - start, 1),
        batch_sizes=args.batch_sizes,
        warmup=args.warmup,
        repeats=args.repeats,
        results=results,
    )


def reuse_measurements(path: str, entries) -> dict:
    """The run saved in ``path`` (a previous ``--out`` .json), restricted to ``entries``; an
    entry it lacks is reported as not measured, never filled in."""
    with open(path) as f:
        run = json.load(f)
    if not isinstance(run, dict) or not isinstance(run.get('results'), list):
        raise SystemExit(
            f'{path} is not a run saved by this tool (an object with "results"); '
            'measure again without --reuse'
        )
    by_name = {r['name']: r for r in run['results']}
    run['results'] = [
        by_name.get(e['Name'], dict(name=e['Name'], error=f'not in {path}')) for e in entries
    ]
    run['reused_from'] = path
    return run


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--filter', help='regular expression on the model names')
    parser.add_argument(
        '--speed-filter', help='time only the models whose names match this regular expression'
    )
    parser.add_argument('--no-speed', action='store_true', help='skip the throughput timing')
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--device', choices=['cpu', 'cuda'], default=None, help='default: cuda when available'
    )
    parser.add_argument('--timeout', type=int, default=900, help='seconds per model')
    parser.add_argument('--work-dirs', default=osp.join(REPO, 'work_dirs'))
    parser.add_argument('--index', default=osp.join(REPO, 'model-index.yml'))
    parser.add_argument('--out', default=osp.join(REPO, 'docs', 'benchmarks.md'))
    parser.add_argument('--plot', default=None, help='default: next to --out, .png')
    parser.add_argument(
        '--reuse',
        metavar='JSON',
        help='render from the measurements a previous run saved (its --out '
        '.json) instead of measuring again, e.g. to refresh the results column',
    )
    args = parser.parse_args(argv)
    args.plot = args.plot or osp.splitext(args.out)[0] + '.png'
    if args.reuse:  # the saved run's settings apply; a measuring option would be ignored
        ignored = [
            f"--{name.replace('_', '-')}"
            for name in MEASURING_OPTIONS
            if getattr(args, name) != parser.get_default(name)
        ]
        if ignored:
            parser.error(
                f'--reuse renders saved measurements; {", ".join(ignored)} would '
                'not be applied (measure again without --reuse)'
            )
    entries = load_model_index(args.index)
    import torch

    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if args.filter:
        entries = [e for e in entries if re.search(args.filter, e['Name'])]
    if not entries:
        raise SystemExit(f'no model in {args.index} matches --filter {args.filter!r}')

    if args.reuse:
        run = reuse_measurements(args.reuse, entries)
    else:
        run = measure_all(entries, args, device)
    results = run['results']
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    with open(args.out, 'w') as f:
        f.write(write_markdown(entries, run, args))
    plot(entries, results, args.plot)
    if not args.reuse:
        with open(osp.splitext(args.out)[0] + '.json', 'w') as f:
            json.dump(run, f, indent=1)
    failed = [r for r in results if 'error' in r]
    source = f'from {args.reuse}' if args.reuse else f'{run["wall_s"] / 60:.1f} min'
    print(
        f'wrote {args.out} and {args.plot}: {len(results) - len(failed)} measured, '
        f'{len(failed)} not measured ({source})'
    )
    for r in failed:
        print(f'  {r["name"]}: {r["error"]}')


if __name__ == '__main__':
    main()
