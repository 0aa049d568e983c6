"""Evaluate a checkpoint with an mmtokenmix detection or segmentation config (works like
mmdet's / mmseg's tools/test.py; the config's default_scope picks the toolbox).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--data-root DIR] [--out results.pkl]
                         [--show] [--show-dir DIR] [--wait-time S] [--tta]
                         [--allow-unsafe-load PATH]
                         [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

The stock tools' arguments, for both toolboxes. Unlike the stock tools, a checkpoint whose keys
or shapes differ from the model is refused with the list of missing/unexpected keys, instead of
evaluating a partly random model.

* ``--show-dir DIR`` draws every test image's predictions (the config's visualization hook:
  prediction next to the ground truth) into one folder for detectors and segmentors alike:
  ``WORK_DIR/DIR`` (``DIR`` itself when absolute). Stock mmdet writes under
  ``WORK_DIR/<timestamp>/DIR`` and stock mmseg under ``DIR/vis_data/vis_image``.
* ``--show`` also shows each image in a window for ``--wait-time`` seconds (default 2).
* ``--tta``: test-time augmentation with the config's ``tta_model`` / ``tta_pipeline``; where
  a config has none, a horizontal-flip TTA of its test pipeline (mmdet's ``DetTTAModel`` with
  NMS, as mmdet's tool adds; mmseg's ``SegTTAModel``, which averages the logits).
"""

import argparse
import copy
import os.path as osp

from mmtokenmix.checkpoints import trust_file_for_unpickling
from mmtokenmix.compat import patch_torch_for_cpu
from mmtokenmix.runtime import (
    add_common_args,
    add_loading_args,
    build_runner,
    check_checkpoint_fits,
    load_tool_config,
    run_explaining_data_errors,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump the raw predictions to this .pkl file')
    parser.add_argument(
        '--show', action='store_true', help='show the predictions of every test image in a window'
    )
    parser.add_argument(
        '--show-dir',
        help='draw the predictions of every test image into '
        'WORK_DIR/SHOW_DIR (or SHOW_DIR when absolute)',
    )
    parser.add_argument(
        '--wait-time', type=float, default=2, help='seconds each image is shown with --show'
    )
    parser.add_argument('--tta', action='store_true', help='test-time augmentation')
    add_common_args(parser)
    add_loading_args(parser)
    return parser.parse_args(argv)


def trigger_visualization_hook(cfg, show: bool, show_dir: str, wait_time: float) -> None:
    """Make the config's visualization hook draw every test image: shown with ``show``, saved
    into ``WORK_DIR/show_dir`` (``show_dir`` when absolute) for both toolboxes."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise ValueError(
            f'--show/--show-dir: {cfg.filename} has no default_hooks.visualization '
            '(DetVisualizationHook / SegVisualizationHook) to draw with'
        )
    hook['draw'] = True
    if cfg.default_scope == 'mmseg':
        hook['interval'] = 1  # mmseg's hook draws every 50th image by default
    if show:
        hook['show'] = True
        hook['wait_time'] = wait_time
    if not show_dir:
        return
    target = osp.abspath(osp.join(cfg.work_dir, show_dir))
    if cfg.default_scope == 'mmdet':
        hook['test_out_dir'] = target  # the hook writes each image there itself
    else:  # mmseg's hook draws through the visualizer's local backend: point it there
        cfg.visualizer['vis_backends'] = [
            dict(type='LocalVisBackend', save_dir=target, img_save_dir='.')
        ]


def _innermost_dataset(dataset_cfg):
    while 'dataset' in dataset_cfg:
        dataset_cfg = dataset_cfg['dataset']
    return dataset_cfg


def flip_tta_pipeline(test_pipeline: list) -> list:
    """The test pipeline with its last step (the packing) run on the image and on its
    horizontal flip, as mmdet's tools/test.py builds it for --tta."""
    pipeline = copy.deepcopy(list(test_pipeline))
    pack = dict(pipeline[-1])
    if pack.get('meta_keys') is not None:
        pack['meta_keys'] = tuple(pack['meta_keys']) + tuple(
            k for k in ('flip', 'flip_direction') if k not in pack['meta_keys']
        )
    pipeline[-1] = dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='RandomFlip', prob=1.0, direction='horizontal'),
                dict(type='RandomFlip', prob=0.0, direction='horizontal'),
            ],
            [pack],
        ],
    )
    return pipeline


def use_tta(cfg) -> None:
    """Wrap the model in the config's ``tta_model`` and test with its ``tta_pipeline`` (flip
    TTA where the config has none; see the module docstring)."""
    dataset = _innermost_dataset(cfg.test_dataloader.dataset)
    if cfg.get('tta_model') is None:
        if cfg.default_scope != 'mmdet':
            raise ValueError(f'--tta: {cfg.filename} has no tta_model')
        cfg.tta_model = dict(
            type='DetTTAModel',
            tta_cfg=dict(nms=dict(type='nms', iou_threshold=0.5), max_per_img=100),
        )
    if cfg.get('tta_pipeline') is None:
        if dataset.get('batch_shapes_cfg'):  # fixed output sizes do not mix with TTA
            dataset['batch_shapes_cfg'] = None
        cfg.tta_pipeline = flip_tta_pipeline(dataset['pipeline'])
    cfg.model = dict(cfg.tta_model, module=cfg.model)
    dataset['pipeline'] = cfg.tta_pipeline


def main(argv=None):
    args = parse_args(argv)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError('--out must be a .pkl file')
    patch_torch_for_cpu()
    cfg = load_tool_config(args)
    cfg.load_from = args.checkpoint
    if args.show or args.show_dir:
        trigger_visualization_hook(cfg, args.show, args.show_dir, args.wait_time)
    if args.tta:
        use_tta(cfg)
    trust_file_for_unpickling(args.allow_unsafe_load)
    runner = build_runner(cfg)
    # a TTA wrapper holds the model as .module, which is what the checkpoint describes
    check_checkpoint_fits(getattr(runner.model, 'module', runner.model), args.checkpoint)
    if args.out is not None:
        from mmengine.evaluator import DumpResults

        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    run_explaining_data_errors(cfg, runner.test)


if __name__ == '__main__':
    main()
