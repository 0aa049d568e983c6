"""Deploy a whole detector or segmentor with mmdeploy (ONNX Runtime on the CPU) and check the
exported model against PyTorch.

    python tools/deployment/deploy.py DEPLOY_CFG MODEL_CFG CHECKPOINT IMG [IMG ...]
        --work-dir DIR [--repeats 5] [--json FILE]

DEPLOY_CFG: an mmdeploy deploy config (``configs/deploy/``; mmdeploy 1.3.1's wheel ships none
and no ``tools/deploy.py``, so this is its counterpart). The model is exported with mmdeploy's
``torch2onnx`` to ``DIR/end2end.onnx`` (post-processing, NMS included, in the graph); then
PyTorch and ONNX Runtime run on each IMG, preprocessed once for both, and their predictions are
compared (boxes: same label, IoU >= 0.99, score within 1e-3, both ways; masks and label maps:
pixel agreement; see ``mmtokenmix/deploy_check.py`` for why) and timed (median of
``--repeats`` runs each). Exit status 1 when a comparison fails.
"""

import argparse
import json
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('deploy_cfg', help='mmdeploy deploy config (configs/deploy/*.py)')
    parser.add_argument('model_cfg', help='detector or segmentor config')
    parser.add_argument('checkpoint', help='its trained checkpoint')
    parser.add_argument('images', nargs='+', metavar='IMG', help='images to compare on')
    parser.add_argument('--work-dir', required=True, help='where end2end.onnx is written')
    parser.add_argument('--repeats', type=int, default=5, help='timed runs per image and model')
    parser.add_argument('--json', help='also write the report to this file')
    args = parser.parse_args(argv)
    missing = [
        p
        for p in [args.deploy_cfg, args.model_cfg, args.checkpoint, *args.images]
        if not os.path.isfile(p)
    ]
    if missing:
        parser.error(f'no such file: {", ".join(missing)}')
    if args.repeats < 1:
        parser.error('--repeats must be at least 1')
    from mmtokenmix.deploy_check import deploy_and_compare

    os.makedirs(args.work_dir, exist_ok=True)
    report = deploy_and_compare(
        args.deploy_cfg, args.model_cfg, args.checkpoint, args.images, args.work_dir, args.repeats
    )
    print(f'exported {report["onnx_file"]} in {report["export_s"]:.1f} s')
    for c in report['comparisons']:
        details = ', '.join(
            f'{k} {v:.4g}' if isinstance(v, float) else f'{k} {v}'
            for k, v in c.items()
            if k not in ('image', 'ok')
        )
        print(f'{c["image"]}: {"equal" if c["ok"] else "DIFFERENT"} ({details})')
    seconds = report['seconds']
    print(
        f'seconds per image (median): PyTorch {seconds["pytorch"]:.4f}, ONNX Runtime '
        f'{seconds["exported"]:.4f} ({seconds["pytorch"] / seconds["exported"]:.2f}x)'
    )
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)
    return 0 if report['ok'] else 1


if __name__ == '__main__':
    sys.exit(main())
