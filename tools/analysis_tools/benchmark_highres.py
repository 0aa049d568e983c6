"""High-resolution inference benchmark of DFFormer (Tatsunami & Taki, AAAI 2024, Fig. 5/6):
forward throughput and peak memory of DFFormer-S18, CDFFormer-S18 and the baselines the paper
compares with, timm's ConvFormer-S18 (SepConv everywhere) and CAFormer-S18 (attention in stages
3-4) classifiers, at several square resolutions.

    python tools/analysis_tools/benchmark_highres.py [--resolutions 224 512 768 1024]
        [--batch-size 1] [--repeats 3] [--device cpu|cuda] [--out-dir DIR] [--doc PAGE SECTION]

Every (model, resolution) point runs in a fresh process, with the model built for that
resolution (DFFormer's filter bases stored at that size, so no resize), in eval mode under
no_grad.
Peak memory = the most memory the first forward used beyond what the built model and its
input held: on CUDA ``torch.cuda.max_memory_allocated``; on CPU the process's peak resident
set (VmHWM, reset just before the forward). Throughput = images / second from the median of
``--repeats`` timed forwards after that first one (``mmtokenmix.analysis.interleaved_seconds``,
the timing loop of every benchmark tool). Writes ``results.json``, ``table.md`` and
``highres.png`` (two panels, log scale) to ``--out-dir`` and prints the table; ``--doc``
also writes it into the generated section SECTION of the markdown PAGE.
"""

import argparse
import json
import os
import os.path as osp
import subprocess
import sys

MODELS = {  # display name -> ours: (family class name, arch); timm's: model name
    'DFFormer-S18': ('DFFormer', 's18'),
    'CDFFormer-S18': ('CDFFormer', 's18'),
    'ConvFormer-S18 (timm)': 'convformer_s18',
    'CAFormer-S18 (timm)': 'caformer_s18',
}


def measure(name: str, resolution: int, batch_size: int, repeats: int, device: str) -> dict:
    """One point, in this process (the parent runs each point in a fresh child)."""
    import torch

    import mmtokenmix.models as models
    from mmtokenmix.analysis import interleaved_seconds, peak_memory_of

    if isinstance(MODELS[name], str):
        import timm

        model = timm.create_model(MODELS[name])
    else:
        family, arch = MODELS[name]
        settings = getattr(models, family).named_arch(arch)
        model = models.MetaFormerClassifier(settings, nominal_size=resolution)
    model = model.eval().to(device)
    x = torch.randn(batch_size, 3, resolution, resolution, device=device)
    params = sum(p.numel() for p in model.parameters())
    with torch.no_grad():
        # the first forward of a fresh process (also the warm-up: allocator, cuFFT plans,
        # oneDNN primitives)
        peak = peak_memory_of(lambda: model(x), device)
        seconds = interleaved_seconds(
            {name: lambda: model(x)}, repeats=repeats, warmup=0, device=device
        )[name]['median']
    return dict(
        model=name,
        resolution=resolution,
        batch_size=batch_size,
        device=device,
        params_m=round(params / 1e6, 2),
        seconds_per_batch=round(seconds, 4),
        images_per_s=round(batch_size / seconds, 3),
        peak_mib=round(peak / 2**20, 1),
    )


def write_table(results, path) -> str:
    resolutions = sorted({r['resolution'] for r in results})
    by = {(r['model'], r['resolution']): r for r in results}
    lines = [
        '| model | params (M) | '
        + ' | '.join(f'{res}: img/s · peak MiB' for res in resolutions)
        + ' |',
        '|---|---|' + '---|' * len(resolutions),
    ]
    for name in MODELS:
        cells = []
        for res in resolutions:
            r = by.get((name, res))
            cells.append(f'{r["images_per_s"]:.3g} · {r["peak_mib"]:.0f}' if r else '—')
        params = next((r['params_m'] for r in results if r['model'] == name), '—')
        lines.append(f'| {name} | {params} | ' + ' | '.join(cells) + ' |')
    table = '\n'.join(lines)
    with open(path, 'w') as f:
        f.write(table + '\n')
    return table


def plot(results, path, title):
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in MODELS:
        rows = sorted((r for r in results if r['model'] == name), key=lambda r: r['resolution'])
        res = [r['resolution'] for r in rows]
        axes[0].plot(res, [r['images_per_s'] for r in rows], marker='o', label=name)
        axes[1].plot(res, [r['peak_mib'] for r in rows], marker='o', label=name)
    for ax, label in zip(axes, ('throughput (images / s)', 'peak memory of a forward (MiB)')):
        ax.set_xlabel('input resolution (square)')
        ax.set_ylabel(label)
        ax.set_yscale('log')
        ax.grid(True, which='both', alpha=0.3)
    axes[0].legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main(argv=None):
    from mmtokenmix.analysis.generated_docs import (
        add_doc_option,
        check_doc_option,
        write_doc_option,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--resolutions', type=int, nargs='+', default=[224, 512, 768, 1024])
    parser.add_argument('--models', nargs='+', default=list(MODELS), choices=list(MODELS))
    parser.add_argument('--batch-size', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument(
        '--device', choices=['cpu', 'cuda'], default=None, help='default: cuda when available'
    )
    parser.add_argument('--out-dir', default='work_dirs/benchmark_highres')
    parser.add_argument('--single', nargs=2, metavar=('MODEL', 'RES'), help=argparse.SUPPRESS)
    add_doc_option(parser)
    args = parser.parse_args(argv)
    check_doc_option(parser, args.doc)
    import torch

    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if args.single:
        print(
            json.dumps(
                measure(args.single[0], int(args.single[1]), args.batch_size, args.repeats, device)
            )
        )
        return

    os.makedirs(args.out_dir, exist_ok=True)
    repo = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(p for p in (repo, os.environ.get('PYTHONPATH')) if p)
    )
    results = []
    for res in args.resolutions:
        for name in args.models:
            cmd = [
                sys.executable,
                osp.abspath(__file__),
                '--single',
                name,
                str(res),
                '--batch-size',
                str(args.batch_size),
                '--repeats',
                str(args.repeats),
                '--device',
                device,
            ]
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if proc.returncode != 0:  # e.g. out of memory: report it and go on
                print(f'{name} @ {res}: failed\n{proc.stderr[-2000:]}', file=sys.stderr)
                continue
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            r = results[-1]
            print(
                f'{name:>20} @ {res:>4}: {r["images_per_s"]:8.3f} img/s, '
                f'peak {r["peak_mib"]:8.1f} MiB',
                flush=True,
            )
    with open(osp.join(args.out_dir, 'results.json'), 'w') as f:
        json.dump(results, f, indent=1)
    where = (
        torch.cuda.get_device_name()
        if device == 'cuda'
        else f'CPU, {torch.get_num_threads()} threads'
    )
    setting = f'{where}, batch {args.batch_size}, torch {torch.__version__}'
    table = write_table(results, osp.join(args.out_dir, 'table.md'))
    print(f'\n{setting}\n\n{table}')
    if args.doc:
        write_doc_option(
            args.doc, f'{setting}; plot: {args.out_dir}/highres.png.\n\n{table}', argv, __file__
        )
    plot(
        results,
        osp.join(args.out_dir, 'highres.png'),
        f'MetaFormer-S18 token mixers at high resolution ({where}, batch {args.batch_size})',
    )
    print(f'\nwrote {args.out_dir}/results.json, table.md, highres.png')


if __name__ == '__main__':
    main()
