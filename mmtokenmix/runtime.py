"""What ``tools/train.py`` and ``tools/test.py`` need beyond mmengine on current torch/CPU.

* mmengine 0.10.7 calls ``torch.cuda.set_device`` unconditionally when it initialises a
  distributed run, which fails on CPU-only machines: it becomes a no-op there.
* Checkpoints (``load_from``, ``--resume``, the checkpoint to test) are read weights-only
  through :mod:`mmtokenmix.checkpoints.files`, which allow-lists the few data types mmengine's
  resume checkpoints hold; ``--allow-unsafe-load PATH`` opts one trusted legacy file out.
* On CPU, distributed runs use gloo, DDP without ``device_ids``, and BN instead of SyncBN
  (torch's SyncBatchNorm only runs on GPUs; mmengine reverts it only for single processes).
* mmengine's ``AmpOptimWrapper`` refuses to run without a GPU: on CPU, configs that ask for it
  (e.g. the DFFormer detection recipes, upstream's apex O1) train in float32 with a notice.

The same tools run mmdet and mmseg configs: the Runner builds everything in the config's
``default_scope``, which :func:`detect_default_scope` fills in when a config lacks it.
"""
import argparse
import importlib
import os
import os.path as osp

import torch


def patch_torch_for_cpu() -> None:
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
    if _replace_sync_bn(cfg.model):
        print('mmtokenmix: SyncBN -> BN for distributed training on CPU (statistics per process)')


def _replace_sync_bn(node) -> bool:
    """Turn every ``dict(type='SyncBN', ...)`` under ``node`` into BN; True if any was."""
    found = False
    if isinstance(node, dict):
        if node.get('type') == 'SyncBN':
            node['type'] = 'BN'
            found = True
        for value in node.values():
            found |= _replace_sync_bn(value)
    elif isinstance(node, (list, tuple)):
        for value in node:
            found |= _replace_sync_bn(value)
    return found


TOOLBOXES = ('mmdet', 'mmseg')


def detect_default_scope(cfg) -> str:
    """The toolbox (``'mmdet'`` or ``'mmseg'``) that runs ``cfg``: its ``default_scope``, or
    else the toolbox whose model registry knows ``cfg.model.type``."""
    scope = cfg.get('default_scope')
    if scope is not None:
        return scope
    model_type = cfg.get('model', {}).get('type')
    if not isinstance(model_type, str):
        raise ValueError('the config has neither default_scope nor model.type, so it is not '
                         f'clear which toolbox ({", ".join(TOOLBOXES)}) should run it')
    if '.' in model_type:  # 'mmseg.EncoderDecoder'
        scope = model_type.split('.', 1)[0]
        if scope in TOOLBOXES:
            return scope
    found = []
    for scope in TOOLBOXES:
        registry = importlib.import_module(f'{scope}.registry').MODELS
        registry.import_from_location()
        if model_type in registry.module_dict:
            found.append(scope)
    if len(found) != 1:
        raise ValueError(f'cannot tell which toolbox runs model type {model_type!r}: it is '
                         f'registered in {found or "neither of"} {list(TOOLBOXES)}; set '
                         "default_scope = 'mmdet' or 'mmseg' in the config")
    return found[0]


# how launchers tell each process how many processes run on its machine
LOCAL_PROCESS_COUNT_VARS = ('LOCAL_WORLD_SIZE', 'SLURM_NTASKS_PER_NODE',
                            'OMPI_COMM_WORLD_LOCAL_SIZE')


def threads_per_process(launcher: str, environ=None, cores: int = None):
    """CPU threads each process of a distributed run on this machine should use, or None to
    leave torch's choice: an explicit ``OMP_NUM_THREADS`` wins; otherwise the machine's cores
    are shared out (torch gives every process all cores: with 2 processes on 2 cores that made
    training 10x slower than 1 thread each)."""
    environ = os.environ if environ is None else environ
    if launcher == 'none' or 'OMP_NUM_THREADS' in environ:
        return None
    for name in LOCAL_PROCESS_COUNT_VARS:
        value = environ.get(name, '').split('(')[0]  # SLURM may say '2(x3)'
        if value.isdigit() and int(value) > 1:
            cores = cores or len(os.sched_getaffinity(0))
            return max(1, cores // int(value))
    return None


def share_cpu_cores(launcher: str) -> None:
    """Apply :func:`threads_per_process` to this process (and its data loader workers)."""
    threads = threads_per_process(launcher)
    if threads is not None:
        torch.set_num_threads(threads)
        os.environ['OMP_NUM_THREADS'] = str(threads)
        print(f'mmtokenmix: {threads} CPU thread(s) per process (cores shared by the '
              'processes of this machine; set OMP_NUM_THREADS to choose)')


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
    cfg.default_scope = detect_default_scope(cfg)
    adapt_config_to_device(cfg, args.launcher)
    share_cpu_cores(args.launcher)
    return cfg


def optim_wrapper_for_device(optim_wrapper: dict) -> dict:
    """``optim_wrapper`` itself, or on a machine without a GPU, an ``AmpOptimWrapper`` config
    turned into a float32 ``OptimWrapper`` (mmengine's AMP wrapper needs a GPU)."""
    if torch.cuda.is_available() or optim_wrapper.get('type') != 'AmpOptimWrapper':
        return optim_wrapper
    print('mmtokenmix: no GPU, so AmpOptimWrapper -> OptimWrapper (float32 training)')
    amp_only = ('loss_scale', 'dtype', 'use_fsdp')
    return dict({k: v for k, v in optim_wrapper.items() if k not in amp_only},
                type='OptimWrapper')


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
    print(f'mmtokenmix: {type(target).__name__} compiled with torch.compile({options or ""}); '
          'the first iterations (and the first evaluation) are slow while it compiles')


def add_loading_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('--allow-unsafe-load', metavar='PATH', action='append', default=[],
                        help='fully unpickle this one checkpoint file, which runs any code the '
                             'file names: only for a legacy file from a source you trust '
                             '(repeatable)')


def check_checkpoint_fits(model, checkpoint_path: str, partial: bool = False) -> None:
    """Raise :class:`~mmtokenmix.checkpoints.CheckpointMismatchError` listing the keys when the
    checkpoint does not fit ``model`` exactly (mmengine would only warn and go on). With
    ``partial``, print what will and will not be loaded instead."""
    from mmengine.model import is_model_wrapper

    from mmtokenmix.checkpoints import (check_state_dict, extract_state_dict,
                                        load_checkpoint_file)
    model = model.module if is_model_wrapper(model) else model
    state_dict = extract_state_dict(load_checkpoint_file(checkpoint_path))
    if not partial:
        check_state_dict(model, state_dict, source=checkpoint_path)
        return
    own = model.state_dict()
    loaded = [k for k, v in own.items() if k in state_dict and state_dict[k].shape == v.shape]
    not_loaded = [k for k in own if k not in loaded]
    ignored = [k for k in state_dict if k not in own or state_dict[k].shape != own[k].shape]
    print(f'mmtokenmix: --partial-load of {checkpoint_path}: {len(loaded)} of {len(own)} model '
          f'tensors loaded; {len(not_loaded)} keep their initialisation; {len(ignored)} '
          'checkpoint tensors ignored')
    for title, keys in (('not loaded', not_loaded), ('ignored', ignored)):
        if keys:
            print(f'  {title}: ' + ', '.join(keys))


def check_resume_checkpoint(model, checkpoint_path: str) -> None:
    """Refuse a file that is not a resume checkpoint of a training run (with a message that
    says what it is instead), or whose weights do not fit ``model``."""
    from mmtokenmix.checkpoints import load_checkpoint_file
    checkpoint = load_checkpoint_file(checkpoint_path)
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    needed = ('state_dict', 'optimizer', 'message_hub')
    if not isinstance(meta, dict) or 'epoch' not in meta or 'iter' not in meta or \
            any(k not in checkpoint for k in needed):
        keys = sorted(checkpoint)[:8] if isinstance(checkpoint, dict) else []
        raise ValueError(
            f'--resume {checkpoint_path}: not a resume checkpoint of a training run (those '
            f'hold meta.epoch/iter, {", ".join(needed)}; this file has {keys}). To start a new '
            'run from its weights, use --cfg-options load_from=PATH instead')
    check_checkpoint_fits(model, checkpoint_path)


def annotation_files(cfg) -> list:
    """Every ``data_root``/``ann_file`` pair of the config's datasets, as paths."""
    found = []

    def walk(node, root=''):
        if isinstance(node, dict):
            root = node.get('data_root', root) or ''
            if isinstance(node.get('ann_file'), str) and node['ann_file']:
                found.append(osp.join(root, node['ann_file']))
            for value in node.values():
                walk(value, root)
        elif isinstance(node, (list, tuple)):
            for value in node:
                walk(value, root)
    walk({k: cfg.get(k) for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')})
    return list(dict.fromkeys(found))


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
                    raise ValueError(f'annotation file {path!r} is not valid JSON: {e}') \
                        from error
        raise
