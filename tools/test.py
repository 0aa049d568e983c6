"""Evaluate a checkpoint with an mmtokenmix detection or segmentation config (works like
mmdet's / mmseg's tools/test.py; the config's default_scope picks the toolbox).

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--data-root DIR] [--out results.pkl]
                         [--show-dir DIR] [--allow-unsafe-load PATH]
                         [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

Unlike the stock tools, a checkpoint whose keys or shapes differ from the model is refused
with the list of missing/unexpected keys, instead of evaluating a partly random model.

``--show-dir DIR`` draws every test image's predictions (mmdet's / mmseg's visualization hook:
prediction next to the ground truth) into ``DIR``: for detectors ``WORK_DIR/<timestamp>/DIR``,
as mmdet's tool does; for segmentors ``DIR/vis_data/vis_image`` as mmseg's.
"""
import argparse

from mmtokenmix.checkpoints import trust_file_for_unpickling
from mmtokenmix.compat import patch_torch_for_cpu
from mmtokenmix.runtime import (add_common_args, add_loading_args, build_runner,
                                check_checkpoint_fits, load_tool_config,
                                run_explaining_data_errors)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test (and evaluate) a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out', help='dump the raw predictions to this .pkl file')
    parser.add_argument('--show-dir', help='draw the predictions on every test image into '
                                           'this directory')
    add_common_args(parser)
    add_loading_args(parser)
    return parser.parse_args(argv)


def trigger_visualization_hook(cfg, show_dir: str) -> None:
    """Make the config's visualization hook draw every test image into ``show_dir`` (the
    settings mmdet's and mmseg's tools/test.py make for ``--show-dir``)."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None:
        raise ValueError(f'--show-dir: {cfg.filename} has no default_hooks.visualization '
                         '(DetVisualizationHook / SegVisualizationHook) to draw with')
    hook['draw'] = True
    if cfg.default_scope == 'mmdet':
        hook['test_out_dir'] = show_dir
    else:
        hook['interval'] = 1  # mmseg's hook draws every 50th image by default
        cfg.visualizer['save_dir'] = show_dir


def main(argv=None):
    args = parse_args(argv)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError('--out must be a .pkl file')
    patch_torch_for_cpu()
    cfg = load_tool_config(args)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        trigger_visualization_hook(cfg, args.show_dir)
    trust_file_for_unpickling(args.allow_unsafe_load)
    runner = build_runner(cfg)
    check_checkpoint_fits(runner.model, args.checkpoint)
    if args.out is not None:
        from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(DumpResults(out_file_path=args.out))
    run_explaining_data_errors(cfg, runner.test)


if __name__ == '__main__':
    main()
