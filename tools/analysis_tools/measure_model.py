"""Measure one model of the model index and print the result as one JSON line: params, FLOPs
at the papers' input size (mmengine's counter and the mmcv 1.x-rule hook counter), peak memory
of the first forward at batch 1 and, unless ``--no-speed``, network-forward throughput per batch
size (median of ``--repeats`` after ``--warmup`` forwards, random weights). benchmark_table.py
runs it once per entry, each in a fresh process (peak memory is only meaningful there).

    python tools/analysis_tools/measure_model.py NAME [--index model-index.yml]
        [--device cpu|cuda] [--batch-sizes 1 2] [--warmup 1] [--repeats 3] [--no-speed]
"""

import argparse
import json
import os.path as osp

from mmtokenmix.model_index import input_size, is_timm_classifier, load_model_index

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def build(entry: dict, device: str, config_root: str):
    """(model in eval mode on ``device``, make_inputs(batch) -> forward args); config paths
    of the index are relative to ``config_root`` (the index's folder)."""
    import torch

    h, w = input_size(entry)
    if not is_timm_classifier(entry):
        from functools import partial

        from mmengine.config import Config

        from mmtokenmix.analysis import build_model_from_config, dummy_data_samples
        from mmtokenmix.config_utils import detect_default_scope

        cfg = Config.fromfile(osp.join(config_root, entry['Config']))
        model = build_model_from_config(cfg).eval().to(device)
        scope = detect_default_scope(cfg)
        forward = model.forward

        def make_inputs(batch):
            model.forward = partial(
                forward, data_samples=dummy_data_samples(scope, h, w, batch), mode='tensor'
            )
            return (torch.zeros(batch, 3, h, w, device=device),)
    else:
        import timm

        import mmtokenmix.models  # noqa: F401

        model = timm.create_model(entry['Metadata']['timm']).eval().to(device)

        def make_inputs(batch):
            return (torch.zeros(batch, 3, h, w, device=device),)

    return model, make_inputs


def measure(
    entry: dict, device: str, batch_sizes, warmup: int, repeats: int, speed: bool, config_root: str
) -> dict:
    import torch

    from mmtokenmix.analysis import (
        count_parameters,
        interleaved_seconds,
        module_complexity,
        peak_memory_of,
    )

    torch.manual_seed(0)
    model, make_inputs = build(entry, device, config_root)
    out = dict(name=entry['Name'], device=device, params=count_parameters(model))
    with torch.no_grad():
        inputs = make_inputs(1)
        out['peak_mib'] = round(peak_memory_of(lambda: model(*inputs), device) / 2**20, 1)
        if speed:
            out['images_per_s'] = {}
            for batch in batch_sizes:
                inputs = make_inputs(batch)
                seconds = interleaved_seconds(
                    {'forward': lambda: model(*inputs)},
                    repeats=repeats,
                    warmup=warmup,
                    device=device,
                )['forward']['median']
                out['images_per_s'][str(batch)] = round(batch / seconds, 3)
        model.to('cpu')
        result = module_complexity(model, tuple(x.cpu() for x in make_inputs(1)))
    out.update(flops=result['flops'], hook_flops=result['hook_flops'])
    return out


# ---- the table (parent process) -------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('name', help='a model name of the index')
    parser.add_argument('--index', default=osp.join(REPO, 'model-index.yml'))
    parser.add_argument(
        '--device', choices=['cpu', 'cuda'], default=None, help='default: cuda when available'
    )
    parser.add_argument('--batch-sizes', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--no-speed', action='store_true', help='skip the throughput timing')
    args = parser.parse_args(argv)
    import torch

    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    entries = {e['Name']: e for e in load_model_index(args.index)}
    if args.name not in entries:
        raise SystemExit(f'{args.name!r} is not in {args.index}')
    print(
        json.dumps(
            measure(
                entries[args.name],
                device,
                args.batch_sizes,
                args.warmup,
                args.repeats,
                not args.no_speed,
                osp.dirname(osp.abspath(args.index)),
            )
        )
    )


if __name__ == '__main__':
    main()
