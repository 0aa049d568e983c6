"""Write the model-zoo table of docs/model_zoo.md from the model index (model-index.yml and the
metafiles), between the ``<!-- model-zoo:start -->`` and ``<!-- model-zoo:end -->`` markers.

    python tools/analysis_tools/model_zoo_table.py [--check]

``--check`` only compares (exit 1 if the page's table is not what the metafiles give).
"""

import argparse
import os.path as osp

from mmtokenmix.analysis.generated_docs import replace_section
from mmtokenmix.checkpoints.files import atomic_write_text
from mmtokenmix.model_index import is_timm_classifier, load_model_index, published

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _paper_numbers(entries) -> str:
    cells = []
    for e in entries:
        paper = published(e)
        results = paper.get('Results')
        if results:
            mark = '' if paper.get('Verified', True) else ' (unverified)'
            cells.append(
                f'{e["Name"]}: ' + ', '.join(f'{k} {v}' for k, v in results.items()) + mark
            )
    return '<br>'.join(cells) or '— (not available)'


def zoo_table(entries) -> str:
    lines = [
        '| family | status | ImageNet classifiers (timm; mmpretrain: classifier_NAME_in1k): '
        'params ours / paper (DFFormer: '
        'official code) | configs | paper results | official weights |',
        '|---|---|---|---|---|---|',
    ]
    for name in dict.fromkeys(e['In Collection'] for e in entries):
        family = [e for e in entries if e['In Collection'] == name]
        coll = family[0]['Collection']
        classifiers = []
        for e in family:
            if is_timm_classifier(e):
                paper = published(e).get('Parameters (M)')
                classifiers.append(
                    f'`{e["Name"]}` {e["Metadata"]["Parameters"] / 1e6:.2f}M / '
                    + (f'{paper:g}M' if paper else '—')
                )
        tasks = {}
        for e in family:
            if not is_timm_classifier(e):
                key = f'{e["Metadata"]["Head"]} ({e["Metadata"]["Training Data"]})'
                tasks.setdefault(key, []).append(e['Name'])
        configs = '<br>'.join(f'{k}: ' + ', '.join(f'`{n}`' for n in v) for k, v in tasks.items())
        lines.append(
            f'| [{name}]({coll["Paper"]["URL"]}) | {coll["Metadata"]["Status"]} | '
            f'{"<br>".join(classifiers)} | {configs} | {_paper_numbers(family)} | '
            f'{coll["Metadata"]["Official Weights"]} |'
        )
    return '\n'.join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--check', action='store_true')
    parser.add_argument('--page', default=osp.join(REPO, 'docs', 'model_zoo.md'))
    args = parser.parse_args(argv)
    with open(args.page) as f:
        text = f.read()
    try:
        new = replace_section(text, 'model-zoo', zoo_table(load_model_index()), page=args.page)
    except ValueError as exc:
        raise SystemExit(str(exc))
    if args.check:
        if new != text:
            raise SystemExit(
                f'the model-zoo table of {args.page} is out of date: run '
                'python tools/analysis_tools/model_zoo_table.py'
            )
        print(f'the model-zoo table of {args.page} matches the metafiles')
        return
    atomic_write_text(args.page, new)
    print(f'wrote the model-zoo table into {args.page}')


if __name__ == '__main__':
    main()
