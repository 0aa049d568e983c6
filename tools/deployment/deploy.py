"""Deploy a whole detector or segmentor with mmdeploy (ONNX Runtime on the CPU) and check the
exported model against PyTorch.

    python tools/deployment/deploy.py DEPLOY_CFG MODEL_CFG CHECKPOINT IMG [IMG ...]
        --work-dir DIR [--repeats 5] [--json FILE] [--doc PAGE SECTION]
        [--cfg-options KEY=VALUE ...]

DEPLOY_CFG: an mmdeploy deploy config (``configs/deploy/``; mmdeploy 1.3.1's wheel ships none
and no ``tools/deploy.py``, so this is its counterpart). The model is exported with mmdeploy's
``torch2onnx`` to ``DIR/end2end.onnx`` (post-processing, NMS included, in the graph); then
PyTorch and ONNX Runtime run on each IMG, preprocessed once for both, and their predictions are
compared (boxes: same label, IoU >= 0.99, score within 1e-3, both ways; masks and label maps:
pixel agreement; see ``mmtokenmix/deploy_check.py`` for why) and timed (median of
``--repeats`` runs each). Exit status 1 when a comparison fails.

CHECKPOINT ``init`` exports the config's own initialisation (``init_weights()`` after
``torch.manual_seed(0)``, saved to ``DIR/init_weights.pth``): a check that a model exports before
it is trained. Untrained detectors score every box alike, so their comparison is only meaningful
with a score threshold of 0 and where NMS has no near-ties (see docs/deployment.md).
``--cfg-options`` overrides MODEL_CFG's keys for the export and the PyTorch side alike (as in
``tools/test.py``), e.g. the test-time post-processing to match mmdeploy's (docs/deployment.md).
``--doc PAGE SECTION`` writes the report (command, machine, comparisons, timings) into the
generated section SECTION of the markdown PAGE.
"""

import argparse
import json
import os
import sys

from mmengine.config import Config, DictAction

from mmtokenmix.analysis.generated_docs import add_doc_option, check_doc_option, write_doc_option


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('deploy_cfg', help='mmdeploy deploy config (configs/deploy/*.py)')
    parser.add_argument('model_cfg', help='detector or segmentor config')
    parser.add_argument(
        'checkpoint', help="its trained checkpoint, or 'init' for the config's initialisation"
    )
    parser.add_argument('images', nargs='+', metavar='IMG', help='images to compare on')
    parser.add_argument('--work-dir', required=True, help='where end2end.onnx is written')
    parser.add_argument('--repeats', type=int, default=5, help='timed runs per image and model')
    parser.add_argument('--json', help='also write the report to this file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        metavar='KEY=VALUE',
        help='override keys of the model config (for both PyTorch and the export)',
    )
    add_doc_option(parser, 'the report')
    args = parser.parse_args(argv)
    files = [args.deploy_cfg, args.model_cfg, *args.images]
    if args.checkpoint != 'init':
        files.append(args.checkpoint)
    missing = [p for p in files if not os.path.isfile(p)]
    if missing:
        parser.error(f'no such file: {", ".join(missing)}')
    if args.repeats < 1:
        parser.error('--repeats must be at least 1')
    check_doc_option(parser, args.doc)
    model_cfg = Config.fromfile(args.model_cfg)
    if args.cfg_options:
        model_cfg.merge_from_dict(args.cfg_options)
    from mmtokenmix.deploy_check import deploy_and_compare, save_initial_weights

    os.makedirs(args.work_dir, exist_ok=True)
    checkpoint = args.checkpoint
    if checkpoint == 'init':
        checkpoint = save_initial_weights(
            model_cfg, os.path.join(args.work_dir, 'init_weights.pth')
        )
    report = deploy_and_compare(
        args.deploy_cfg, model_cfg, checkpoint, args.images, args.work_dir, args.repeats
    )
    text = format_report(report)
    print(text)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)
    if args.doc:
        write_doc_option(args.doc, text, argv, __file__)
    return 0 if report['ok'] else 1


def format_report(report: dict) -> str:
    """The report as markdown: the export, one table row per image, the timings."""
    keys = [k for k in report['comparisons'][0] if k not in ('image', 'ok')]
    lines = [
        f'Exported `{report["onnx_file"]}` in {report["export_s"]:.1f} s.',
        '',
        '| image | agrees | ' + ' | '.join(k.replace('_', ' ') for k in keys) + ' |',
        '|---' * (len(keys) + 2) + '|',
    ]
    for c in report['comparisons']:
        values = [f'{c[k]:.4g}' if isinstance(c[k], float) else str(c[k]) for k in keys]
        ok = 'yes' if c['ok'] else '**no**'
        lines.append(f'| {os.path.basename(c["image"])} | {ok} | ' + ' | '.join(values) + ' |')
    seconds = report['seconds']
    lines += [
        '',
        f'Seconds per image (median over images of the median of repeats): PyTorch '
        f'{seconds["pytorch"]:.4f}, ONNX Runtime {seconds["exported"]:.4f} '
        f'({seconds["pytorch"] / seconds["exported"]:.2f}x).',
    ]
    return '\n'.join(lines)


if __name__ == '__main__':
    sys.exit(main())
