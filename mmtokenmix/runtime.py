"""What ``tools/train.py`` and ``tools/test.py`` need beyond mmengine on current torch/CPU.

* mmengine 0.10.7 calls ``torch.cuda.set_device`` unconditionally when it initialises a
  distributed run, which fails on CPU-only machines: it becomes a no-op there.
* torch >= 2.6 loads checkpoints with ``weights_only=True`` by default, which cannot read
  mmengine's resume checkpoints (message hub, numpy scalars); mmengine does not pass the flag,
  so the environment default is set back to full unpickling (our own files only).
* On CPU, distributed runs use gloo and DDP without ``device_ids``.
"""
import argparse
import os
import os.path as osp

import torch


def patch_torch_for_cpu() -> None:
    os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    if not torch.cuda.is_available():
        torch.cuda.set_device = lambda *args, **kwargs: None


def adapt_config_to_device(cfg, launcher: str) -> None:
    """Make a GPU-oriented config run distributed on CPU (gloo, DDP without device ids)."""
    if launcher == 'none' or torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                   find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    wrapper['device_ids'] = None  # an explicit None beats the Runner's [LOCAL_RANK] default
    cfg.model_wrapper_cfg = wrapper


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """The options tools/train.py and tools/test.py share (as in mmdet's tools)."""
    from mmengine.config import DictAction
    parser.add_argument('--work-dir', help='the dir to save logs, models and metrics')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_cfg.max_epochs=2')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_tool_config(args: argparse.Namespace):
    """Read ``args.config`` and apply the common options; the work dir defaults to
    ``./work_dirs/<config name>``."""
    from mmengine.config import Config
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    adapt_config_to_device(cfg, args.launcher)
    return cfg


def build_runner(cfg):
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
