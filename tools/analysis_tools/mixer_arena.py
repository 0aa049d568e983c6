"""Mixer arena: every token mixer in MixerNet's one skeleton at one parameter budget, trained
with one recipe on the toy detection (RetinaNet) and segmentation (Semantic FPN) tasks over
several seeds, plus FLOPs (both counters), CPU throughput and peak memory per resolution.

    python tools/analysis_tools/mixer_arena.py [--mixers dmixer dma ...] [--seeds 0 1 2]
        [--tasks det seg] [--budget toy] [--det-epochs 3] [--seg-iters 300]
        [--sizes 224 512 768 1024] [--repeats 3] [--jobs 1]
        [--work-dir work_dirs/mixer_arena] [--out docs/mixer_arena.md]

Run from the repository root (the toy data is generated into data/toy if absent). Each
training run is ``tools/train.py`` on a generated config in
``WORK_DIR/<task>/<mixer>/seed<k>/``; a run that finished has ``result.json`` there and is
skipped next time, a run killed halfway resumes from its last checkpoint, and each
resolution's speed/memory is kept in ``WORK_DIR/speed/<mixer>_<size>.json``: a killed arena
run does not start over. ``--jobs N`` (N > 1) trains N variants at a time, each on cores / N
threads: these 5 M models hardly use a second thread (a backbone step at batch 4, 128x128 takes
about the same time on one thread as on two), so two 1-thread jobs on 2 cores train about twice
as many variants per hour. Speed and memory are always measured alone. Writes OUT (mean ± std
over the seeds per metric, params, FLOPs, img/s, memory) and next to it ``<out>_accuracy.png``
(metric vs FLOPs with error bars) and ``<out>_scaling.png`` (throughput and memory vs
resolution).
"""

import argparse
import json
import math
import multiprocessing
import os
import os.path as osp
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

from mmtokenmix.analysis.run_logs import last_value  # noqa: E402
from mmtokenmix.models.backbones.mixernet import BUDGETS, variant_arch  # noqa: E402
from mmtokenmix.models.mixers.catalogue import MIXERS  # noqa: E402

#: the two toy tasks: the leaf config whose head, data and recipe every variant shares, the
#: stages the head reads, the metric reported
TASKS = {
    'det': dict(
        config='configs/retinanet_transxnet_t_toy.py',
        out_indices=(1, 2, 3),
        metric='coco/bbox_mAP',
        label='bbox mAP',
    ),
    'seg': dict(
        config='configs/sfpn_dmformer_s_toy.py',
        out_indices=(0, 1, 2, 3),
        metric='mIoU',
        label='mIoU',
    ),
}
TOY_SIZE = 128  # the toy images' side: the filter bases' nominal size


def arena_config(task: str, mixer: str, budget: str, seed: int, length: int) -> str:
    """A leaf config: the task's toy config with the MixerNet variant as backbone and the
    schedule shortened to ``length`` epochs (det) or iterations (seg)."""
    spec = TASKS[task]
    widths = variant_arch(mixer, budget)['dims']
    model = [
        f"    backbone=dict(_delete_=True, type='mmtokenmix.MixerNet', arch='{mixer}-{budget}',",
        f"                  out_indices={spec['out_indices']}, nominal_size={TOY_SIZE}),",
        f"    neck=dict(in_channels={[widths[i] for i in spec['out_indices']]}),",
    ]
    if task == 'det':
        # every detection scored: with mmdet's 0.05 a short run may keep none, and get no AP
        model.append('    test_cfg=dict(score_thr=0.0),')
    else:
        # with cross-entropy alone pooling-toy predicted only background (86 % of the pixels;
        # mIoU 21.6) for 400 iterations; a Dice term weighs the small shapes up
        model += [
            '    decode_head=dict(loss_decode=[',
            "        dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),",
            "        dict(type='DiceLoss', use_sigmoid=False, loss_weight=1.0)]),",
        ]
    model.append(')')
    lines = [
        f"_base_ = [{osp.join(REPO, spec['config'])!r}]",
        'model = dict(',
        *model,
        f'randomness = dict(seed={seed})',
    ]
    if task == 'det':  # the toy recipe: 50 warm-up iterations, cosine over the epochs
        lines += [
            f'train_cfg = dict(max_epochs={length}, val_interval={length})',
            'param_scheduler = [',
            "    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),",
            f"    dict(type='CosineAnnealingLR', T_max={length}, eta_min=1e-5, by_epoch=True,",
            f'         begin=0, end={length})]',
        ]
    else:  # warm-up (50 iterations, at most a quarter of the run), then linear decay to 0
        warmup = min(50, max(1, length // 4))
        lines += [
            f'train_cfg = dict(max_iters={length}, val_interval={length})',
            'param_scheduler = [',
            f"    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end={warmup}),",
            f"    dict(type='PolyLR', eta_min=0.0, power=1.0, by_epoch=False, begin={warmup},",
            f'         end={length})]',
            f"default_hooks = dict(checkpoint=dict(interval={max(1, length // 4)}))",
        ]
    return '\n'.join(lines) + '\n'


def train_variant(task: str, mixer: str, seed: int, args) -> dict:
    """Train and evaluate one variant (or resume it, or read its finished result)."""
    run_dir = osp.join(args.work_dir, task, mixer, f'seed{seed}')
    result_file = osp.join(run_dir, 'result.json')
    if osp.isfile(result_file):
        print(f'{task} {mixer} seed {seed}: done before, skipped')
        return json.load(open(result_file))
    os.makedirs(run_dir, exist_ok=True)
    length = args.det_epochs if task == 'det' else args.seg_iters
    config = osp.join(run_dir, 'arena_config.py')
    with open(config, 'w') as f:
        f.write(arena_config(task, mixer, args.budget, seed, length))
    command = [sys.executable, osp.join(REPO, 'tools/train.py'), config, '--work-dir', run_dir]
    if osp.isfile(osp.join(run_dir, 'last_checkpoint')):
        command.append('--resume')  # killed halfway: continue where it stopped
        print(f'{task} {mixer} seed {seed}: resuming')
    start = time.time()
    log = osp.join(run_dir, 'train.log')
    env = dict(os.environ)  # one job: the caller's thread settings; several: cores shared out
    if args.jobs > 1:
        threads = str(max(1, len(os.sched_getaffinity(0)) // args.jobs))  # as threads.py
        env.update(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    with open(log, 'a') as f:
        code = subprocess.call(command, stdout=f, stderr=subprocess.STDOUT, env=env)
    if code:
        sys.exit(f'error: {task} {mixer} seed {seed} failed (exit {code}); see {log}')
    metric = last_value(run_dir, TASKS[task]['metric'])
    result = dict(
        task=task,
        mixer=mixer,
        seed=seed,
        metric=metric,
        seconds=round(time.time() - start, 1),
        length=length,
    )
    with open(result_file + '.tmp', 'w') as f:
        json.dump(result, f)
    os.replace(result_file + '.tmp', result_file)  # written whole or not at all
    print(
        f'{task} {mixer} seed {seed}: {TASKS[task]["metric"]} {metric:.4f} '
        f'({result["seconds"]:.0f} s)'
    )
    return result


def _measure_in_this_process(mixer: str, budget: str, size: int, repeats: int) -> dict:
    import torch

    from mmtokenmix.analysis import interleaved_seconds, peak_memory_of
    from mmtokenmix.models.backbones.mixernet import MixerNet

    torch.manual_seed(0)
    model = MixerNet(arch=f'{mixer}-{budget}').eval()
    x = torch.randn(1, 3, size, size)

    def forward():
        with torch.no_grad():
            model(x)

    memory = peak_memory_of(forward, 'cpu')  # the first forward of a fresh process
    seconds = interleaved_seconds({'forward': forward}, repeats=repeats)['forward']
    return dict(
        memory_mib=memory / 2**20,
        images_per_s=1 / seconds['median'],
        seconds_min=seconds['min'],
        seconds_max=seconds['max'],
    )


def measure_speed(mixer: str, size: int, args) -> dict:
    """Batch-1 inference throughput and peak memory at ``size`` x ``size`` (fresh process)."""
    path = osp.join(args.work_dir, 'speed', f'{mixer}_{size}.json')
    if osp.isfile(path):
        return json.load(open(path))
    with multiprocessing.get_context('spawn').Pool(1) as pool:
        result = pool.apply(_measure_in_this_process, (mixer, args.budget, size, args.repeats))
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path + '.tmp', 'w') as f:
        json.dump(result, f)
    os.replace(path + '.tmp', path)
    print(
        f'{mixer} at {size}x{size}: {result["images_per_s"]:.2f} img/s, '
        f'{result["memory_mib"]:.0f} MiB'
    )
    return result


def complexity(mixer: str, budget: str) -> dict:
    """Params, and FLOPs at 224x224 by mmengine's counter and by the mmcv 1.x hook rules."""
    import torch

    from mmtokenmix.analysis.complexity import module_complexity
    from mmtokenmix.models.backbones.mixernet import MixerNet

    model = MixerNet(arch=f'{mixer}-{budget}').eval()
    return module_complexity(model, (torch.randn(1, 3, 224, 224),))


def mean_std(values):
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else float('nan'))


def pm(mean: float, std: float, scale: float = 1.0, digits: int = 3) -> str:
    if math.isnan(std):
        return f'{mean * scale:.{digits}f}'
    return f'{mean * scale:.{digits}f} ± {std * scale:.{digits}f}'


def write_report(args, results, complexities, speeds, wall_seconds: float):
    base = osp.splitext(args.out)[0]
    tasks = [t for t in args.tasks]
    lines = [
        '# Mixer arena',
        '',
        f'Generated by `python tools/analysis_tools/mixer_arena.py {" ".join(args.argv)}`'
        f'. Training took {sum(r["seconds"] for r in results) / 60:.1f} min summed over the '
        f'{len(results)} runs; this invocation {wall_seconds / 60:.1f} min (runs finished by '
        'an earlier invocation are reused, not repeated).',
        '',
        f'Every variant is `MixerNet(arch="<mixer>-{args.budget}")`: the same MetaFormer '
        'skeleton (stem, downsampling, norms, MLP, res scale, no drop path), only the token '
        f'mixer differs, widths matched to {BUDGETS[args.budget]["params"] / 1e6:.0f} M '
        'parameters (within 3 %). Detection: the RetinaNet toy recipe '
        f'({args.det_epochs} epoch(s) over the toy training set, batch 4, all detections scored); '
        'segmentation: the Semantic FPN toy recipe '
        f'({args.seg_iters} iterations, cross-entropy + Dice loss); '
        f'seeds {", ".join(map(str, args.seeds))}. Mean ± '
        'sample standard deviation over the seeds. FLOPs at 224×224: mmengine\'s counter / the '
        'mmcv 1.x hook rules (which skip attention products and FFTs, as the papers of that '
        'time). Speed: batch 1, CPU inference, median of the timed repeats; memory: peak '
        'resident memory of the first forward in a fresh process.',
        '',
    ]
    header = ['mixer', 'params (M)', 'GFLOPs (mmengine / hooks)']
    header += [f'{TASKS[t]["label"]} ({t})' for t in tasks]
    header += [f'img/s @{s}' for s in args.sizes] + [f'MiB @{s}' for s in args.sizes]
    lines += ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]
    noise = {}
    for task in tasks:
        stds = [
            mean_std([r['metric'] for r in results if r['task'] == task and r['mixer'] == m])[1]
            for m in args.mixers
        ]
        stds = [s for s in stds if not math.isnan(s)]
        noise[task] = math.sqrt(statistics.fmean([s * s for s in stds])) if stds else None
    for mixer in args.mixers:
        c = complexities[mixer]
        row = [
            f'{mixer} †' if MIXERS[mixer].caveat else mixer,
            f'{c["params"] / 1e6:.2f}',
            f'{c["flops"] / 1e9:.2f} / {c["hook_flops"] / 1e9:.2f}',
        ]
        for task in tasks:
            values = [r['metric'] for r in results if r['task'] == task and r['mixer'] == mixer]
            row.append(pm(*mean_std(values)) if values else '—')
        row += [f'{speeds[mixer, s]["images_per_s"]:.2f}' for s in args.sizes]
        row += [f'{speeds[mixer, s]["memory_mib"]:.0f}' for s in args.sizes]
        lines.append('| ' + ' | '.join(row) + ' |')
    lines.append('')
    for task in tasks:
        if noise[task] is not None:
            lines.append(
                f'Noise floor of {TASKS[task]["label"]} ({task}): pooled standard '
                f'deviation over seeds {noise[task]:.3f}; differences between two '
                f'means below about {2 * noise[task]:.3f} are within noise.'
            )
    caveats = [f'{m}: {MIXERS[m].caveat}.' for m in args.mixers if MIXERS[m].caveat]
    if caveats:
        lines += [''] + [f'† {c}' for c in caveats]
    lines.append('')
    with open(args.out, 'w') as f:
        f.write('\n'.join(lines))
    print(f'table -> {args.out}')

    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 3.8), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for mixer in args.mixers:
            values = [r['metric'] for r in results if r['task'] == task and r['mixer'] == mixer]
            mean, std = mean_std(values)
            ax.errorbar(
                complexities[mixer]['flops'] / 1e9,
                mean,
                yerr=0 if math.isnan(std) else std,
                fmt='o',
                capsize=3,
                label=mixer,
            )
        ax.set_xlabel('GFLOPs at 224×224 (mmengine)')
        ax.set_ylabel(TASKS[task]['label'])
        ax.set_title(f'toy {task}: mean ± std over {len(args.seeds)} seeds', fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(base + '_accuracy.png', dpi=100)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for mixer in args.mixers:
        axes[0].plot(
            args.sizes,
            [speeds[mixer, s]['images_per_s'] for s in args.sizes],
            marker='o',
            label=mixer,
        )
        axes[1].plot(
            args.sizes,
            [speeds[mixer, s]['memory_mib'] for s in args.sizes],
            marker='o',
            label=mixer,
        )
    for ax, label in zip(axes, ('images / s (batch 1, CPU)', 'peak memory (MiB)')):
        ax.set_xlabel('input side (pixels)')
        ax.set_ylabel(label)
        ax.set_yscale('log')
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(base + '_scaling.png', dpi=100)
    print(f'plots -> {base}_accuracy.png, {base}_scaling.png')


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--mixers', nargs='+', default=list(MIXERS), choices=list(MIXERS))
    parser.add_argument('--seeds', nargs='+', type=int, default=[0, 1, 2])
    parser.add_argument('--tasks', nargs='+', default=list(TASKS), choices=list(TASKS))
    parser.add_argument('--budget', default='toy', choices=sorted(BUDGETS))
    parser.add_argument('--det-epochs', type=int, default=3)
    parser.add_argument('--seg-iters', type=int, default=300)
    parser.add_argument('--sizes', nargs='+', type=int, default=[224, 512, 768, 1024])
    parser.add_argument('--repeats', type=int, default=3, help='timed forwards per size')
    parser.add_argument(
        '--jobs', type=int, default=1, help='variants trained at once, each on cores / jobs threads'
    )
    parser.add_argument('--work-dir', default='work_dirs/mixer_arena')
    parser.add_argument('--out', default='docs/mixer_arena.md')
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f'--jobs must be at least 1, got {args.jobs}')
    args.argv = sys.argv[1:] if argv is None else list(argv)
    if not osp.isfile('data/toy/annotations/instances_val.json'):
        subprocess.check_call(
            [sys.executable, osp.join(REPO, 'tools/make_toy_data.py'), '--root', 'data/toy']
        )
    start = time.time()
    runs = [
        (task, mixer, seed) for task in args.tasks for mixer in args.mixers for seed in args.seeds
    ]
    with ThreadPoolExecutor(args.jobs) as pool:  # threads only wait on the subprocesses
        results = list(pool.map(lambda run: train_variant(*run, args), runs))
    complexities = {mixer: complexity(mixer, args.budget) for mixer in args.mixers}
    speeds = {
        (mixer, size): measure_speed(mixer, size, args)
        for mixer in args.mixers
        for size in args.sizes
    }
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    write_report(args, results, complexities, speeds, time.time() - start)


if __name__ == '__main__':
    main()
