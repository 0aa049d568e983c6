"""A table of finished training runs, read from their work dirs (for the docs' run tables).

    python tools/analysis_tools/toy_runs_table.py WORK_DIR [WORK_DIR ...]
        [--doc PAGE SECTION] [--json FILE]

Each WORK_DIR is a ``--work-dir`` of ``tools/train.py``. Per run, from the config it dumped there
and its logs (``<timestamp>/vis_data/scalars.json``, all parts of a resumed run): the config,
precision (float32, or the autocast dtype of ``--amp``), seed, when it started, the iterations
trained, the first and last logged training loss, the last validation metric (mmdet's
``coco/segm_mAP`` or ``coco/bbox_mAP``, mmseg's ``mIoU`` or mmpretrain's ``accuracy/top1``,
the first the run has) and the seconds per iteration of its logging intervals (median
(min-max)). Nothing is measured here: the numbers are the runs'. ``--doc`` writes the table into
the generated section SECTION of the markdown PAGE (see ``generated_docs.py``).
"""

import argparse
import json
import sys

from mmtokenmix.analysis.generated_docs import provenance, replace_section, write_section
from mmtokenmix.analysis.run_logs import run_summary

HEADER = (
    '| work dir | config | precision | seed | started | iterations | loss first → last '
    '| final metric | s/iter median (min-max) |\n' + '|---' * 9 + '|'
)


def format_row(r: dict) -> str:
    metric = f'{r["metric"]} {r["metric_value"]:.4g}' if r['metric'] else 'not evaluated'
    t = r['s_per_iter']
    seconds = f'{t["median"]:.2f} ({t["min"]:.2f}-{t["max"]:.2f})' if t else '-'
    return (
        f'| {r["work_dir"]} | {r["config"]} | {r["precision"]} | {r["seed"]} | {r["started"]} '
        f'| {r["iterations"]} | {r["first_loss"]:.4g} → {r["last_loss"]:.4g} | {metric} '
        f'| {seconds} |'
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+', metavar='WORK_DIR', help='tools/train.py work dirs')
    parser.add_argument('--json', help='also write the rows to this file')
    parser.add_argument(
        '--doc',
        nargs=2,
        metavar=('PAGE', 'SECTION'),
        help='write the table into the generated section SECTION of the markdown PAGE',
    )
    args = parser.parse_args(argv)
    try:
        if args.doc:  # a page without the section fails before anything is read
            with open(args.doc[0]) as f:
                replace_section(f.read(), args.doc[1], '', page=args.doc[0])
        rows = [run_summary(path) for path in args.work_dirs]
    except (OSError, ValueError) as e:
        sys.exit(f'error: {e}')
    table = '\n'.join([HEADER, *map(format_row, rows)])
    print(table)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=1)
    if args.doc:
        command = sys.argv if argv is None else [__file__, *argv]
        write_section(args.doc[0], args.doc[1], provenance(command) + '\n\n' + table)
        print(f'table -> {args.doc[0]} (section {args.doc[1]})')


if __name__ == '__main__':
    main()
