"""Train a detector or segmentor from an mmtokenmix config (works like mmdet's tools/train.py).

    python tools/train.py CONFIG [--work-dir DIR] [--data-root DIR] [--resume [CKPT]] [--amp]
                          [--auto-scale-lr] [--partial-load] [--allow-unsafe-load PATH]
                          [--cfg-options k=v ...] [--launcher {none,pytorch,slurm,mpi}]

Unlike the stock tools, ``load_from`` must fit the model exactly (a mismatch lists the keys;
``--partial-load`` loads what fits and lists the rest), and ``--resume FILE`` must be a resume
checkpoint of a training run.
"""

import argparse

import torch

from mmtokenmix.checkpoints import trust_file_for_unpickling
from mmtokenmix.compat import patch_torch_for_cpu
from mmtokenmix.runtime import (
    add_common_args,
    add_loading_args,
    build_runner,
    check_checkpoint_fits,
    check_resume_checkpoint,
    checkpoint_to_resume,
    load_tool_config,
    run_explaining_data_errors,
)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='automatic mixed precision: float16 with dynamic loss scaling on '
        'a GPU, bfloat16 autocast on a CPU',
    )
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the lr by the real batch size (auto_scale_lr in the config)',
    )
    parser.add_argument(
        '--resume',
        nargs='?',
        type=str,
        const='auto',
        help='resume from CKPT, or from the latest checkpoint of the work dir',
    )
    parser.add_argument(
        '--partial-load',
        action='store_true',
        help='load_from may fit the model partly: load the tensors that fit '
        'and list the rest (default: refuse a mismatch)',
    )
    add_common_args(parser)
    add_loading_args(parser)
    return parser.parse_args(argv)


def use_amp(cfg):
    """Mixed precision for ``--amp``: mmengine's ``AmpOptimWrapper`` needs CUDA, so a CPU run
    gets bfloat16 autocast (no loss scaling needed) instead of an assertion error."""
    if torch.cuda.is_available():
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'
    else:
        cfg.optim_wrapper.pop('loss_scale', None)  # a GradScaler setting: not used by bf16
        cfg.optim_wrapper.type = 'mmtokenmix.CPUAutocastOptimWrapper'
        cfg.optim_wrapper.setdefault('dtype', 'bfloat16')  # a dtype the config asks for stays


def main(argv=None):
    args = parse_args(argv)
    patch_torch_for_cpu()
    cfg = load_tool_config(args)
    if args.amp:
        use_amp(cfg)
    if args.auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise RuntimeError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    if cfg.get('resume') and not cfg.get('load_from'):  # --resume, or resume=True in the config
        cfg.load_from = checkpoint_to_resume(cfg.work_dir)
    trust_file_for_unpickling(args.allow_unsafe_load)
    runner = build_runner(cfg)
    if cfg.resume:
        if cfg.load_from:
            check_resume_checkpoint(runner.model, cfg.load_from)
    elif cfg.get('load_from'):
        check_checkpoint_fits(runner.model, cfg.load_from, partial=args.partial_load)
    run_explaining_data_errors(cfg, runner.train)


if __name__ == '__main__':
    main()
