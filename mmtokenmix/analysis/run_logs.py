"""Reading a training run's logs: the ``<timestamp>/vis_data/scalars.json`` files mmengine writes
under a ``--work-dir`` of ``tools/train.py`` (one per start, so a run resumed after a kill is
read as one), and a one-line summary of a finished run for the generated tables of the docs.
"""

import glob
import json
import os.path as osp
import statistics

# the metrics a summary reports, the first the run logged (mmdet's, then mmseg's)
SUMMARY_METRICS = ('coco/segm_mAP', 'coco/bbox_mAP', 'mIoU', 'accuracy/top1')


def find_scalars(path: str) -> list:
    """The scalars.json files of a run, oldest first (``path`` may also be one such file). A
    run resumed after a kill writes a new ``<timestamp>/`` directory next to the first, and its
    records continue the earlier ones."""
    if osp.isfile(path):
        return [path]
    # only WORK_DIR/<timestamp>/vis_data: a test run's logs one level deeper are not training
    found = sorted(glob.glob(osp.join(path, '*', 'vis_data', 'scalars.json')))
    if not found:
        raise FileNotFoundError(
            f'no <timestamp>/vis_data/scalars.json under {path} (is it a --work-dir of '
            'tools/train.py?)'
        )
    return found


def read_records(paths: list):
    """(training records, validation records) of a run's scalars.json files, in order. A step
    logged again after a resume replaces the earlier record of that step."""
    train, val = {}, {}
    for path in paths:
        with open(path) as f:
            for number, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    raise ValueError(f'{path} line {number} is not JSON: {line[:80]!r}') from None
                is_train = any(k.startswith('loss') for k in record)
                (train if is_train else val)[record['step']] = record
    return [train[k] for k in sorted(train)], [val[k] for k in sorted(val)]


def last_value(work_dir: str, key: str) -> float:
    """The last logged value of ``key`` of the run in ``work_dir`` (its validation records,
    or its training records if no validation record has it)."""
    train, val = read_records(find_scalars(work_dir))
    # validation records count epochs in epoch-based runs, training records iterations: a
    # key is looked up in one kind, validation first
    values = [r[key] for r in val if key in r] or [r[key] for r in train if key in r]
    if not values:
        raise ValueError(f'{work_dir}: the run logged no {key}')
    return float(values[-1])


def dumped_config(work_dir: str) -> str:
    """The config file ``tools/train.py`` dumped into ``work_dir`` (``<config name>.py``)."""
    found = sorted(glob.glob(osp.join(work_dir, '*.py')))
    if len(found) != 1:
        raise FileNotFoundError(
            f'{work_dir}: expected the one config tools/train.py dumps there, found {found}'
        )
    return found[0]


def run_summary(work_dir: str) -> dict:
    """What a generated table shows of a finished run: its config, precision and backbone
    initialisation (the checkpoint file of a ``Pretrained`` init, or ``'none'``; from the
    dumped config), start time, iterations, first and last training loss, the last value of
    the first of :data:`SUMMARY_METRICS` it logged, every metric of its last validation
    (``final_metrics``), seconds per iteration (the logged ``time`` of each logging interval:
    median, min, max) and the training time those intervals add up to (``train_seconds``: each
    interval's ``time`` times its iterations; validation and checkpoint saving not counted)."""
    from mmengine.config import Config

    paths = find_scalars(work_dir)
    train, val = read_records(paths)
    if not train:
        raise ValueError(f'{work_dir}: no training losses logged yet')
    config_path = dumped_config(work_dir)
    cfg = Config.fromfile(config_path)
    wrapper = cfg.optim_wrapper
    wrapper_type = wrapper.get('type', 'OptimWrapper')  # mmengine's default when unset
    precision = (
        str(wrapper.get('dtype', 'float16'))
        if 'Amp' in wrapper_type or 'Autocast' in wrapper_type
        else 'float32'
    )
    metric = next((k for k in SUMMARY_METRICS if any(k in r for r in val)), None)
    init = (cfg.get('model', {}).get('backbone') or {}).get('init_cfg') or {}
    backbone_init = init['checkpoint'] if init.get('checkpoint') else 'none'
    times = [r['time'] for r in train if 'time' in r]
    train_seconds, previous_step = 0.0, 0
    for r in train:
        train_seconds += r.get('time', 0.0) * (r['step'] - previous_step)
        previous_step = r['step']
    final = next((r for r in reversed(val) if metric in r), {}) if metric else {}
    not_metrics = ('step', 'time', 'data_time')
    return dict(
        work_dir=work_dir,
        config=osp.basename(config_path),
        precision=precision,
        backbone_init=backbone_init,
        seed=cfg.get('randomness', {}).get('seed'),
        started=osp.basename(osp.dirname(osp.dirname(paths[0]))),
        iterations=train[-1]['step'],
        first_loss=train[0]['loss'],
        last_loss=train[-1]['loss'],
        metric=metric,
        metric_value=final[metric] if metric else None,
        final_metrics={k: v for k, v in final.items() if k not in not_metrics},
        s_per_iter=dict(median=statistics.median(times), min=min(times), max=max(times))
        if times
        else None,
        train_seconds=train_seconds if times else None,
    )
