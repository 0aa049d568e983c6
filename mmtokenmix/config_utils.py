"""Edits and questions about an mmdet/mmseg config, for the tools.

* :func:`detect_default_scope`: the toolbox (mmdet or mmseg) that runs a config, so one
  ``tools/train.py`` serves both;
* :func:`adapt_config_to_device`: distributed runs on CPU use gloo, DDP without
  ``device_ids`` and BN instead of SyncBN (torch's SyncBatchNorm only runs on GPUs; mmengine
  reverts it only for single processes);
* :func:`optim_wrapper_for_device`: mmengine's ``AmpOptimWrapper`` refuses to run without a
  GPU, so on CPU such configs (the DFFormer detection recipes) train in float32 with a notice;
* :func:`annotation_files`: the annotation files a config reads;
* :func:`name_image_errors`: image-loading errors that name the file.
"""

import importlib
import importlib.util
import os.path as osp

import torch


def adapt_config_to_device(cfg, launcher: str) -> None:
    """Make a GPU-oriented config run distributed on CPU (gloo, DDP without device ids)."""
    if launcher == 'none' or torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(
        type='MMDistributedDataParallel',
        broadcast_buffers=False,
        find_unused_parameters=cfg.get('find_unused_parameters', False),
    )
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


TOOLBOXES = ('mmdet', 'mmseg', 'mmpretrain')


def detect_default_scope(cfg) -> str:
    """The toolbox (``'mmdet'``, ``'mmseg'`` or ``'mmpretrain'``) that runs ``cfg``: its
    ``default_scope``, or else the installed toolbox whose model registry knows
    ``cfg.model.type``."""
    scope = cfg.get('default_scope')
    if scope is not None:
        return scope
    model_type = cfg.get('model', {}).get('type')
    if not isinstance(model_type, str):
        raise ValueError(
            'the config has neither default_scope nor model.type, so it is not '
            f'clear which toolbox ({", ".join(TOOLBOXES)}) should run it'
        )
    if '.' in model_type:  # 'mmseg.EncoderDecoder'
        scope = model_type.split('.', 1)[0]
        if scope in TOOLBOXES:
            return scope
    found = []
    for scope in TOOLBOXES:
        if importlib.util.find_spec(scope) is None:  # mmpretrain is optional
            continue
        registry = importlib.import_module(f'{scope}.registry').MODELS
        registry.import_from_location()
        if model_type in registry.module_dict:
            found.append(scope)
    if len(found) != 1:
        raise ValueError(
            f'cannot tell which toolbox runs model type {model_type!r}: it is '
            f'registered in {found or "neither of"} {list(TOOLBOXES)}; set '
            "default_scope = 'mmdet', 'mmseg' or 'mmpretrain' in the config"
        )
    return found[0]


def optim_wrapper_for_device(optim_wrapper: dict) -> dict:
    """``optim_wrapper`` itself, or on a machine without a GPU, an ``AmpOptimWrapper`` config
    turned into a float32 ``OptimWrapper`` (mmengine's AMP wrapper needs a GPU)."""
    if torch.cuda.is_available() or optim_wrapper.get('type') != 'AmpOptimWrapper':
        return optim_wrapper
    print('mmtokenmix: no GPU, so AmpOptimWrapper -> OptimWrapper (float32 training)')
    amp_only = ('loss_scale', 'dtype', 'use_fsdp')
    return dict({k: v for k, v in optim_wrapper.items() if k not in amp_only}, type='OptimWrapper')


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


def dataloader_datasets(cfg) -> list:
    """The dataset dicts of the config's train/val/test dataloaders, wrapped ones included
    (``RepeatDataset``'s ``dataset``, ``ConcatDataset``'s ``datasets``)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if 'dataset' in node or 'datasets' in node:
                for inner in [node['dataset']] if 'dataset' in node else node['datasets']:
                    walk(inner)
            if 'type' in node and (
                'data_root' in node or 'ann_file' in node or 'data_prefix' in node
            ):
                found.append(node)

    for split in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(split):
            walk(cfg[split].get('dataset'))
    unique = []
    for node in found:  # the test dataloader is often the val one
        if not any(node is seen for seen in unique):
            unique.append(node)
    return unique


def set_data_root(cfg, data_root: str) -> list:
    """Point every dataset of the config at ``data_root`` and move the evaluators' annotation
    files with it (mmdet's ``CocoMetric`` names its ``ann_file`` as a full path, so changing
    ``data_root`` alone would evaluate against the old annotations). Returns what changed, as
    ``(key, old, new)``."""
    changes, old_roots = [], set()
    for dataset in dataloader_datasets(cfg):
        old = dataset.get('data_root', '')
        if old:
            old_roots.add(old)
        if old != data_root:
            changes.append((f'{dataset.get("type")}.data_root', old, data_root))
        dataset['data_root'] = data_root
    for name in ('val_evaluator', 'test_evaluator'):
        evaluators = cfg.get(name)
        for evaluator in evaluators if isinstance(evaluators, list) else [evaluators]:
            ann_file = evaluator.get('ann_file') if isinstance(evaluator, dict) else None
            if not isinstance(ann_file, str):
                continue
            old = next(
                (r for r in sorted(old_roots, key=len, reverse=True) if ann_file.startswith(r)),
                None,
            )
            if old is None:
                raise ValueError(
                    f'{name}.ann_file {ann_file!r} is not under the datasets\' data_root '
                    f'{sorted(old_roots)}: set it yourself (--cfg-options '
                    f'{name}.ann_file=...)'
                )
            new = osp.join(data_root, ann_file[len(old) :].lstrip('/'))
            evaluator['ann_file'] = new
            changes.append((f'{name}.ann_file', ann_file, new))
    return changes


def name_image_errors(cfg) -> int:
    """Put :class:`mmtokenmix.datasets.LoadImageFromFile` (mmcv's, with errors that name the
    file) in place of mmcv's ``LoadImageFromFile`` in the pipelines of the config's datasets,
    with the same arguments. Returns how many steps were replaced."""
    replaced = 0

    def walk(steps):
        nonlocal replaced
        for step in steps or []:
            if not isinstance(step, dict):
                continue
            if step.get('type') in ('LoadImageFromFile', 'mmcv.LoadImageFromFile'):
                step['type'] = 'mmtokenmix.LoadImageFromFile'
                replaced += 1
            walk(step.get('transforms'))  # TestTimeAug, RandomChoice, ...

    for dataset in dataloader_datasets(cfg):
        walk(dataset.get('pipeline'))
    return replaced
