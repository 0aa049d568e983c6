"""What ``tools/train.py`` and ``tools/test.py`` share: their common arguments, reading and
adapting the config (:mod:`mmtokenmix.config_utils`, :mod:`mmtokenmix.threads`), building the
Runner (the config's ``compile`` option compiles the backbone only), strict checks of the
checkpoints they load, and naming a broken annotation file.

Checkpoints (``load_from``, ``--resume``, the checkpoint to test) are read weights-only through
:mod:`mmtokenmix.checkpoints.files`, which allow-lists the few data types mmengine's resume
checkpoints hold; ``--allow-unsafe-load PATH`` opts one trusted legacy file out.
"""

import argparse
import os
import os.path as osp

from mmtokenmix.config_utils import (
    adapt_config_to_device,
    annotation_files,
    detect_default_scope,
    name_image_errors,
    optim_wrapper_for_device,
    set_data_root,
)
from mmtokenmix.threads import share_cpu_cores


def add_common_args(parser: argparse.ArgumentParser) -> None:
    """The options tools/train.py and tools/test.py share (as in mmdet's tools)."""
    from mmengine.config import DictAction

    parser.add_argument('--work-dir', help='the dir to save logs, models and metrics')
    parser.add_argument(
        '--data-root',
        help="the dataset's directory, for every dataloader and the evaluators' annotation files",
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. train_cfg.max_epochs=2',
    )
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher',
    )
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
    if getattr(args, 'data_root', None):
        for key, old, new in set_data_root(cfg, args.data_root):
            print(f'--data-root: {key} {old!r} -> {new!r}')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.default_scope = detect_default_scope(cfg)
    adapt_config_to_device(cfg, args.launcher)
    name_image_errors(cfg)
    share_cpu_cores(args.launcher)
    return cfg


def build_runner(cfg):
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    if 'optim_wrapper' in cfg:
        cfg.optim_wrapper = optim_wrapper_for_device(cfg.optim_wrapper)
    # mmengine would compile the whole train_step, optimizer step included, which dynamo in
    # torch 2.5 cannot trace (InternalTorchDynamoError in AdamW.step): compile the backbone
    compile_cfg = cfg.pop('compile', None)
    runner = Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
    if compile_cfg:
        compile_backbone(runner.model, compile_cfg)
    return runner


def compile_backbone(model, compile_cfg) -> None:
    """``torch.compile`` the backbone of ``model`` (a detector/segmentor, maybe DDP-wrapped)
    in place, so state-dict keys and checkpoints stay as they are. ``compile_cfg``: True or
    the keyword arguments of ``torch.compile`` (e.g. ``dict(mode='max-autotune')``)."""
    from mmengine.model import is_model_wrapper

    model = model.module if is_model_wrapper(model) else model
    target = getattr(model, 'backbone', model)
    options = {} if compile_cfg is True else dict(compile_cfg)
    target.compile(**options)
    print(
        f'mmtokenmix: {type(target).__name__} compiled with torch.compile({options or ""}); '
        'the first iterations (and the first evaluation) are slow while it compiles'
    )


def add_loading_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        '--allow-unsafe-load',
        metavar='PATH',
        action='append',
        default=[],
        help='fully unpickle this one checkpoint file, which runs any code the '
        'file names: only for a legacy file from a source you trust '
        '(repeatable)',
    )


def check_checkpoint_fits(model, checkpoint_path: str, partial: bool = False) -> None:
    """Raise :class:`~mmtokenmix.checkpoints.CheckpointMismatchError` listing the keys when the
    checkpoint does not fit ``model`` exactly (mmengine would only warn and go on). With
    ``partial``, print what will and will not be loaded instead."""
    from mmengine.model import is_model_wrapper

    from mmtokenmix.checkpoints import check_state_dict, extract_state_dict, load_checkpoint_file

    model = model.module if is_model_wrapper(model) else model
    state_dict = extract_state_dict(load_checkpoint_file(checkpoint_path))
    if not partial:
        check_state_dict(model, state_dict, source=checkpoint_path)
        return
    own = model.state_dict()
    loaded = [k for k, v in own.items() if k in state_dict and state_dict[k].shape == v.shape]
    not_loaded = [k for k in own if k not in loaded]
    ignored = [k for k in state_dict if k not in own or state_dict[k].shape != own[k].shape]
    print(
        f'mmtokenmix: --partial-load of {checkpoint_path}: {len(loaded)} of {len(own)} model '
        f'tensors loaded; {len(not_loaded)} keep their initialisation; {len(ignored)} '
        'checkpoint tensors ignored'
    )
    for title, keys in (('not loaded', not_loaded), ('ignored', ignored)):
        if keys:
            print(f'  {title}: ' + ', '.join(keys))


def checkpoint_to_resume(work_dir: str):
    """The checkpoint ``--resume`` (without a file) continues from: the one the work dir's
    ``last_checkpoint`` names, or None when the work dir holds no checkpoint at all (a new
    run). A ``last_checkpoint`` that is empty or names a missing file, and checkpoints without
    a ``last_checkpoint``, are errors: mmengine would start from scratch and later overwrite
    those checkpoints."""
    import glob

    record = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(record):
        with open(record) as f:
            path = f.read().strip()
        if not path:
            raise ValueError(
                f'--resume: {record} is empty, so it does not say which checkpoint '
                'to resume from; give it: --resume PATH'
            )
        if not osp.isfile(path):
            raise ValueError(
                f'--resume: {record} names {path!r}, which does not exist; give '
                'the checkpoint to resume from: --resume PATH'
            )
        return path
    found = sorted(glob.glob(osp.join(glob.escape(work_dir), '*.pth')))
    if found:
        names = ', '.join(osp.basename(p) for p in found[:6]) + (' ...' if len(found) > 6 else '')
        raise ValueError(
            f'--resume: {work_dir} holds checkpoints ({names}) but no '
            'last_checkpoint file saying which one is the latest; give it: '
            '--resume PATH (starting afresh would overwrite them)'
        )
    return None


def check_resume_checkpoint(model, checkpoint_path: str) -> None:
    """Refuse a file that is not a resume checkpoint of a training run (with a message that
    says what it is instead), or whose weights do not fit ``model``."""
    from mmtokenmix.checkpoints import load_checkpoint_file

    checkpoint = load_checkpoint_file(checkpoint_path)
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    needed = ('state_dict', 'optimizer', 'message_hub')
    if (
        not isinstance(meta, dict)
        or 'epoch' not in meta
        or 'iter' not in meta
        or any(k not in checkpoint for k in needed)
    ):
        keys = sorted(checkpoint)[:8] if isinstance(checkpoint, dict) else []
        raise ValueError(
            f'--resume {checkpoint_path}: not a resume checkpoint of a training run (those '
            f'hold meta.epoch/iter, {", ".join(needed)}; this file has {keys}). To start a new '
            'run from its weights, use --cfg-options load_from=PATH instead'
        )
    check_checkpoint_fits(model, checkpoint_path)


def run_explaining_data_errors(cfg, step) -> None:
    """``step()``; a JSON error while reading the datasets is re-raised naming the file
    (pycocotools' and mmengine's messages omit it)."""
    import json

    try:
        step()
    except json.JSONDecodeError as error:
        for path in annotation_files(cfg):
            if path.endswith('.json') and osp.isfile(path):
                try:
                    with open(path) as f:
                        json.load(f)
                except json.JSONDecodeError as e:
                    raise ValueError(f'annotation file {path!r} is not valid JSON: {e}') from error
        raise
