"""Plot a training run's curves from the logs mmengine writes (``vis_data/scalars.json``).

    python tools/analysis_tools/plot_curves.py WORK_DIR [--out curves.png]
                                               [--losses loss loss_cls ...] [--metrics KEY ...]

WORK_DIR is a ``--work-dir`` of tools/train.py: every ``<timestamp>/vis_data/scalars.json``
under it is read in order, so a run resumed after a kill plots as one (a scalars.json path
works too). Left: the training losses against the iteration (default: every ``loss*`` key).
Right: the validation metrics against the epoch or iteration they were measured at (default:
mmdet's ``coco/bbox_mAP``, ``coco/segm_mAP``, mmseg's ``mIoU``, mmpretrain's
``accuracy/top1``, whichever the run has). Prints the first and last value of each curve.
"""

import argparse
import os
import os.path as osp
import sys

from mmtokenmix.analysis.run_logs import find_scalars, read_records

DEFAULT_METRICS = (
    'coco/bbox_mAP',
    'coco/bbox_mAP_50',
    'coco/segm_mAP',
    'mIoU',
    'mAcc',
    'accuracy/top1',
)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', help='a tools/train.py --work-dir (or a scalars.json)')
    parser.add_argument('--out', default='curves.png', help='the picture to write')
    parser.add_argument('--losses', nargs='+', help='training keys to plot (default loss*)')
    parser.add_argument('--metrics', nargs='+', help='validation keys to plot')
    parser.add_argument('--title', help='title of the picture (default: the run directory)')
    args = parser.parse_args(argv)

    try:
        paths = find_scalars(args.work_dir)
        train, val = read_records(paths)
    except (OSError, ValueError) as e:
        sys.exit(f'error: {e}')
    path = paths[-1]
    if not train:
        sys.exit(f'error: {path} has no training losses yet')
    losses = args.losses or sorted({k for r in train for k in r if k.startswith('loss')})
    metrics = args.metrics or [k for k in DEFAULT_METRICS if any(k in r for r in val)]
    missing = [k for k in losses if not any(k in r for r in train)] + [
        k for k in metrics if not any(k in r for r in val)
    ]
    if missing:
        sys.exit(f'error: {path} has no values for {missing}')

    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    panels = 2 if metrics else 1
    fig, axes = plt.subplots(1, panels, figsize=(5.5 * panels, 3.6), squeeze=False)
    ax = axes[0][0]
    for key in losses:
        points = [(r['step'], r[key]) for r in train if key in r]
        ax.plot(*zip(*points), label=key, linewidth=1.2)
        print(
            f'{key}: {points[0][1]:.4f} -> {points[-1][1]:.4f} over {len(points)} points, '
            f'iterations {points[0][0]}-{points[-1][0]}'
        )
    ax.set_xlabel('iteration')
    ax.set_ylabel('training loss')
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    if metrics:
        ax = axes[0][1]
        epoch_based = all('epoch' not in r for r in val) and 'epoch' in train[-1]
        for key in metrics:
            points = [(r['step'], r[key]) for r in val if key in r]
            ax.plot(*zip(*points), marker='o', label=key, linewidth=1.2)
            ax.annotate(
                f'{points[-1][1]:.3f}',
                points[-1],
                textcoords='offset points',
                xytext=(-8, 6),
                ha='right',
                fontsize=8,
            )
            print(
                f'{key}: {points[-1][1]:.4f} at {"epoch" if epoch_based else "step"} '
                f'{points[-1][0]}'
            )
        # the whole run on the x axis, also when it was evaluated only at the end
        ax.set_xlim(0, 1.05 * (train[-1]['epoch'] if epoch_based else train[-1]['step']))
        ax.set_ylim(bottom=0)
        ax.set_xlabel('epoch' if epoch_based else 'iteration')
        ax.set_ylabel('validation metric')
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(
        args.title or osp.basename(osp.dirname(osp.dirname(osp.dirname(path)))), fontsize=10
    )
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f'curves -> {args.out}')


if __name__ == '__main__':
    main()
