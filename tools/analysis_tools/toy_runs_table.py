"""A table of finished training runs, read from their work dirs (for the docs' run tables).

    python tools/analysis_tools/toy_runs_table.py WORK_DIR [WORK_DIR ...] [--seed-groups]
        [--details] [--doc PAGE SECTION] [--json FILE]

Each WORK_DIR is a ``--work-dir`` of ``tools/train.py``. Per run, from the config it dumped there
and its logs (``<timestamp>/vis_data/scalars.json``, all parts of a resumed run): the config,
precision (float32, or the autocast dtype of ``--amp``), backbone initialisation (the
checkpoint of a ``Pretrained`` init, or none), seed, when it started, the iterations
trained, the first and last logged training loss, the last validation metric (mmdet's
``coco/segm_mAP`` or ``coco/bbox_mAP``, mmseg's ``mIoU`` or mmpretrain's ``accuracy/top1``,
the first the run has) and the seconds per iteration of its logging intervals (median
(min-max)). ``--seed-groups`` adds a summary of runs that differ only in the seed: work dirs
named ``<group>_s<seed>`` give one row per group of two or more runs with the final metric's
mean ± standard deviation (sample, n - 1) and range (a single run's row is already in the
first table). ``--details`` adds two columns: the run's other final
metrics of :data:`MORE_METRICS` (AP at IoU 0.5 / 0.75, mmseg's accuracies) and its training
time (the logged iteration times added up; validation not counted). Nothing is measured here:
the numbers are the runs'.
``--doc`` writes the tables into the generated section SECTION of the markdown PAGE (see
``generated_docs.py``).
"""

import argparse
import json
import os.path as osp
import re
import statistics
import sys

from mmtokenmix.analysis.generated_docs import (
    add_doc_option,
    check_doc_option,
    format_duration,
    write_doc_option,
)
from mmtokenmix.analysis.run_logs import run_summary

HEADER = (
    '| work dir | config | precision | backbone init | seed | started | iterations '
    '| loss first → last | final metric | s/iter median (min-max) |\n' + '|---' * 10 + '|'
)
DETAILS_HEADER = (' other final metrics | training time |', '---|---|')
#: the final metrics besides the main one that ``--details`` shows, when a run logged them
MORE_METRICS = (
    'coco/bbox_mAP',
    'coco/bbox_mAP_50',
    'coco/bbox_mAP_75',
    'coco/segm_mAP_50',
    'coco/segm_mAP_75',
    'aAcc',
    'mAcc',
)
GROUP_HEADER = '| runs | n | final metric mean ± std | min-max |\n|---|---|---|---|'


def format_details(r: dict) -> str:
    """The two ``--details`` cells of a row (see the docstring)."""
    more = ' · '.join(
        f'{k.replace("coco/", "")} {r["final_metrics"][k]:.4g}'
        for k in MORE_METRICS
        if k in r['final_metrics'] and k != r['metric']
    )
    seconds = r['train_seconds']
    return f' {more or "-"} | {format_duration(seconds) if seconds else "-"} |'


def format_row(r: dict) -> str:
    metric = f'{r["metric"]} {r["metric_value"]:.4g}' if r['metric'] else 'not evaluated'
    t = r['s_per_iter']
    seconds = f'{t["median"]:.2f} ({t["min"]:.2f}-{t["max"]:.2f})' if t else '-'
    return (
        f'| {r["work_dir"]} | {r["config"]} | {r["precision"]} | {r["backbone_init"]} '
        f'| {r["seed"]} | {r["started"]} '
        f'| {r["iterations"]} | {r["first_loss"]:.4g} → {r["last_loss"]:.4g} | {metric} '
        f'| {seconds} |'
    )


def seed_groups(rows: list) -> list:
    """Rows of runs named ``<group>_s<seed>`` summarised per group (see the docstring)."""
    groups = {}
    for r in rows:
        match = re.fullmatch(r'(.+)_s\d+', osp.basename(osp.normpath(r['work_dir'])))
        if match is None:
            raise ValueError(f'--seed-groups: {r["work_dir"]} is not named <group>_s<seed>')
        groups.setdefault(match.group(1), []).append(r)
    lines = []
    for name, runs in groups.items():
        if len(runs) < 2:
            continue
        if len({r['metric'] for r in runs}) != 1 or runs[0]['metric'] is None:
            raise ValueError(f'--seed-groups: the runs of {name} do not share an evaluated metric')
        values = [r['metric_value'] for r in runs]
        lines.append(
            f'| {name}_s* | {len(values)} | {runs[0]["metric"]} {statistics.mean(values):.4g}'
            f' ± {statistics.stdev(values):.4g} | {min(values):.4g}-{max(values):.4g} |'
        )
    return [GROUP_HEADER, *lines]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR', help='tools/train.py work dirs')
    parser.add_argument(
        '--seed-groups',
        action='store_true',
        help='also summarise runs named <group>_s<seed> per group (mean ± std)',
    )
    parser.add_argument(
        '--details',
        action='store_true',
        help="two more columns: the other final metrics and the logged training time",
    )
    parser.add_argument('--json', help='also write the rows to this file')
    add_doc_option(parser)
    args = parser.parse_args(argv)
    check_doc_option(parser, args.doc)
    try:
        rows = [run_summary(path) for path in args.work_dirs]
        groups = seed_groups(rows) if args.seed_groups else []
    except (OSError, ValueError) as e:
        sys.exit(f'error: {e}')
    header, lines = HEADER, [format_row(r) for r in rows]
    if args.details:
        names, rule = header.split('\n')
        header = f'{names}{DETAILS_HEADER[0]}\n{rule}{DETAILS_HEADER[1]}'
        lines = [line + format_details(r) for line, r in zip(lines, rows)]
    table = '\n'.join([header, *lines] + ([''] + groups if groups else []))
    print(table)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)
    if args.doc:
        write_doc_option(args.doc, table, argv, __file__)


if __name__ == '__main__':
    main()
