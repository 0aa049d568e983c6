"""Inference fast paths against the plain path: forward time, peak memory and output
difference of the dense TransXNet-T/S, DFFormer-S18 and CDFFormer-S18 (nominal size 800, as
the official detectors) backbones.

    python tools/analysis_tools/benchmark_fast_paths.py [--models NAME ...]
        [--settings 16x224x224 1x800x1216] [--repeats 5] [--no-memory] [--compile]
        [--bf16] [--train] [--json FILE]

The plain path (``with mmtokenmix.models.fast_paths(False)``) computes the way the official
implementations do; the fast path is what the backbones do by default in inference. Each
model gets random weights of a trained-looking scale (layer scale 1, random position
encodings and BatchNorm statistics), so every branch contributes to the output. Per model
and input (batch x height x width):

* time: one network forward in eval mode under ``torch.no_grad()``, the two paths taking
  turns, one untimed round, then the median (min-max) of ``--repeats`` rounds; the fast
  path's first forward fills its caches, later ones reuse them, as in a test loop over
  same-sized inputs;
* peak memory: in a fresh process per path, the most resident memory that two forwards
  needed beyond the built model and its input (caches included);
* max rel. diff: ``max |fast - plain| / max |plain|`` over the returned maps.

``--train`` measures one training step instead: forward and backward in train mode (BatchNorm
on batch statistics) of a loss over all returned maps, the paths taking turns as above. Peak
memory is then the peak of tensor memory one step allocates (the profiler's allocation
records, like ``torch.cuda.max_memory_allocated``; the resident set of training steps varied
too much between runs). ``max rel. diff`` is the worst of the outputs' and of every
parameter's gradient ``max |fast - ref| / max |ref|`` against the plain path run in float64
(each gradient against its own largest entry); parameters whose float64 gradient is zero up
to rounding (below 1e-9 of the largest gradient entry of the model: a BatchNorm bias that
only feeds another BatchNorm) are left out, as their "relative" error compares rounding
noise with rounding noise. ``plain rel. diff`` is the same measure of the float32 plain path,
for scale; ``--no-reference`` skips the float64 step (it needs twice the memory of the plain
one) and both columns. ``--compile`` compiles the training step (the model under ``torch.compile``,
backward included) and ``--bf16`` trains under bf16 autocast.

``--configs CONFIG ...`` times whole models instead: one training iteration (forward of the
losses and backward) of each config's detector/segmentor on one batch of its training data
(the toy configs: ``python tools/make_toy_data.py`` first), plain against fast.

``--cost-table`` prints what a training step costs next to what users would pick instead:
every family (fast path, the default) and timm's ConvNeXt-T, Swin-T and PVTv2-b2 as feature
extractors (``features_only``, random weights), per input setting: seconds per step (all
models taking turns, median (min-max) of ``--repeats``), peak tensor memory of a step, and the
time relative to ConvNeXt-T; for the families also on the plain path (before the training
fast paths).

``--compile`` adds ``torch.compile`` (inductor) of the model: its first call (the compile)
and its steady forward time, and the difference of its outputs. ``--bf16`` adds the fast
path under ``torch.autocast('cpu', torch.bfloat16)``: time and the relative RMS error
``||bf16 - plain|| / ||plain||`` per returned map (the worst map). XFormer-S and DMFormer-S
can be named in ``--models`` for these columns (they have no caches: plain = fast).
"""

import argparse
import copy
import json
import multiprocessing
import time

import torch

from mmtokenmix.analysis.generated_docs import add_doc_option, check_doc_option, write_doc_option

MODELS = ('TransXNet-T', 'TransXNet-S', 'DFFormer-S18', 'CDFFormer-S18')
EXTRA_MODELS = ('XFormer-S', 'DMFormer-S')
SETTINGS = ('16x224x224', '1x800x1216')


def parse_setting(text: str):
    try:
        batch, height, width = (int(v) for v in text.split('x'))
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r} is not BATCHxHEIGHTxWIDTH, e.g. 1x800x1216')
    return batch, height, width


def build(name: str, seed: int = 0) -> torch.nn.Module:
    """The dense backbone ``name`` in eval mode, with random trained-looking weights."""
    from mmtokenmix.models import CDFFormer, DFFormer, DMFormer, TransXNet, XFormer

    torch.manual_seed(seed)
    family, arch = name.split('-')
    if family == 'TransXNet':
        model = TransXNet(arch.lower(), layer_scale_init_value=1.0)
    elif family in ('XFormer', 'DMFormer'):
        model = {'XFormer': XFormer, 'DMFormer': DMFormer}[family](arch.lower())
    else:
        model = {'DFFormer': DFFormer, 'CDFFormer': CDFFormer}[family](
            arch.lower(), nominal_size=800
        )
    with torch.no_grad():
        for pname, param in model.named_parameters():
            if 'relative_pos_enc' in pname:
                param.normal_(0, 0.5)
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def forward(model, x, fast: bool, bf16: bool = False):
    from mmtokenmix.models import fast_paths

    with torch.no_grad(), fast_paths(fast), torch.autocast('cpu', torch.bfloat16, enabled=bf16):
        return model(x)


def train_step(model, x, fast: bool, bf16: bool = False):
    """Forward and backward of one training step (the gradients are left in the
    parameters); returns the outputs, detached."""
    from mmtokenmix.models import fast_paths

    model.train()
    model.zero_grad(set_to_none=True)
    with fast_paths(fast), torch.autocast('cpu', torch.bfloat16, enabled=bf16):
        outs = model(x)
        # weights that differ per position, so no gradient is zero by symmetry
        loss = sum((o.float() * torch.linspace(-1, 1, o.numel()).view_as(o)).mean() for o in outs)
    loss.backward()
    return [o.detach().float() for o in outs]


def gradients(model) -> dict:
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def peak_memory(name: str, setting, fast: bool) -> int:
    """Peak bytes of two forwards in this (fresh) process; see the module docstring."""
    from mmtokenmix.analysis import peak_memory_of

    model = build(name)
    x = torch.randn(*setting[:1], 3, *setting[1:])
    return peak_memory_of(lambda: (forward(model, x, fast), forward(model, x, fast)), 'cpu')


def peak_memory_in_fresh_process(name: str, setting, fast: bool) -> int:
    with multiprocessing.get_context('spawn').Pool(1) as pool:
        return pool.apply(peak_memory, (name, setting, fast))


def relative_difference(fast_outs, plain_outs) -> float:
    return max(((a - b).abs().max() / b.abs().max()).item() for a, b in zip(fast_outs, plain_outs))


def relative_rms_error(outs, plain_outs) -> float:
    return max(((a.float() - b).norm() / b.norm()).item() for a, b in zip(outs, plain_outs))


def measure(
    name: str,
    setting,
    repeats: int,
    memory: bool,
    compile_: bool = False,
    bf16: bool = False,
    train: bool = False,
    reference: bool = True,
) -> dict:
    """Forwards (``train``: training steps) of the plain and the fast path, and compiled /
    bf16 if asked: see the module docstring."""
    from mmtokenmix.analysis import interleaved_seconds

    model = build(name)
    batch, height, width = setting
    x = torch.randn(batch, 3, height, width)

    def run(module, fast: bool, bf16: bool = False):
        """(outputs, gradients or None) of one forward / training step of ``module``."""
        if train:  # (a compiled module shares the model's parameters)
            return train_step(module, x, fast, bf16), gradients(model)
        return forward(module, x, fast, bf16), None

    plain = run(model, False)
    if train and reference:  # against the plain path in float64
        reference_model = copy.deepcopy(model).double()
        expected = (train_step(reference_model, x.double(), False), gradients(reference_model))
        del reference_model
    else:
        expected = plain

    def difference(result) -> float:
        diff = relative_difference(result[0], expected[0])
        return max(diff, gradient_difference(result[1], expected[1])) if train else diff

    row = dict(model=name, input=f'{batch}x{height}x{width}', train=train)
    if reference or not train:
        row['max_rel_diff'] = difference(run(model, True))
    if train and reference:
        row['plain_max_rel_diff'] = difference(plain)
    runs = {'plain': lambda: run(model, False), 'fast': lambda: run(model, True)}
    if compile_:
        torch._dynamo.reset()
        compiled = torch.compile(model)
        start = time.perf_counter()
        first = run(compiled, True)
        row['compile_s'] = time.perf_counter() - start
        row['compiled_max_rel_diff'] = difference(first)
        runs['compiled'] = lambda: run(compiled, True)
    if bf16:
        row['bf16_rel_rms_error'] = relative_rms_error(run(model, True, True)[0], plain[0])
        runs['bf16'] = lambda: run(model, True, True)
    seconds = interleaved_seconds(runs, repeats)
    row.update({f'{k}_s': v for k, v in seconds.items()})
    row['speedup'] = seconds['plain']['median'] / seconds['fast']['median']
    if memory and train:  # tensor memory, measured here (the same in any process)
        from mmtokenmix.analysis import peak_allocated_of

        for key, fast in (('plain_peak_mib', False), ('fast_peak_mib', True)):
            row[key] = peak_allocated_of(lambda: train_step(model, x, fast)) / 2**20
    elif memory:
        row['plain_peak_mib'] = peak_memory_in_fresh_process(name, setting, False) / 2**20
        row['fast_peak_mib'] = peak_memory_in_fresh_process(name, setting, True) / 2**20
    return row


def measure_config(path: str, repeats: int) -> dict:
    """Seconds of one training iteration of the whole model of config ``path``, plain and
    fast (see the module docstring)."""
    from mmengine.config import Config
    from mmengine.runner import Runner

    from mmtokenmix.analysis import build_model_from_config, interleaved_seconds
    from mmtokenmix.models import fast_paths

    cfg = Config.fromfile(path)
    model = build_model_from_config(cfg).train()
    loader_cfg = cfg.train_dataloader.copy()
    loader_cfg.update(num_workers=0, persistent_workers=False)
    try:
        batch = next(iter(Runner.build_dataloader(loader_cfg, seed=0)))
    except FileNotFoundError as e:
        raise SystemExit(
            f'{path}: its training data is missing ({e}); for the toy configs run '
            f'python tools/make_toy_data.py'
        )
    data = model.data_preprocessor(batch, True)

    def iteration(fast: bool):
        model.zero_grad(set_to_none=True)
        with fast_paths(fast):
            loss, _ = model.parse_losses(model(**data, mode='loss'))
        loss.backward()

    seconds = interleaved_seconds(
        {'plain': lambda: iteration(False), 'fast': lambda: iteration(True)}, repeats
    )
    shape = 'x'.join(str(v) for v in data['inputs'].shape)
    return dict(
        model=path,
        input=shape,
        train=True,
        plain_s=seconds['plain'],
        fast_s=seconds['fast'],
        speedup=seconds['plain']['median'] / seconds['fast']['median'],
    )


BASELINES = {
    'ConvNeXt-T': 'convnext_tiny',
    'Swin-T': 'swin_tiny_patch4_window7_224',
    'PVTv2-b2': 'pvt_v2_b2',
}


def build_baseline(name: str, setting) -> torch.nn.Module:
    """timm's ``name`` model as a feature extractor with random weights, for ``setting``."""
    import timm

    kwargs = dict(img_size=setting[1:]) if name == 'Swin-T' else {}
    torch.manual_seed(0)
    return timm.create_model(BASELINES[name], pretrained=False, features_only=True, **kwargs)


def cost_table(setting, repeats: int) -> list:
    """Seconds and peak tensor memory of one training step of every family and baseline at
    ``setting`` (see the module docstring)."""
    from mmtokenmix.analysis import interleaved_seconds, peak_allocated_of

    families = MODELS[:1] + MODELS[2:] + EXTRA_MODELS
    models = {name: build(name) for name in families}
    models.update({name: build_baseline(name, setting) for name in BASELINES})
    x = torch.randn(setting[0], 3, *setting[1:])
    runs = {
        (name, True): (lambda m=model: train_step(m, x, True)) for name, model in models.items()
    }
    runs.update(
        {(name, False): (lambda m=models[name]: train_step(m, x, False)) for name in families}
    )
    seconds = interleaved_seconds(runs, repeats)
    reference = seconds[('ConvNeXt-T', True)]['median']
    rows = []
    for name, model in models.items():
        row = dict(
            model=name,
            input='x'.join(map(str, setting)),
            params_m=sum(p.numel() for p in model.parameters()) / 1e6,
            step_s=seconds[(name, True)],
            peak_mib=peak_allocated_of(lambda: train_step(model, x, True)) / 2**20,
            vs_convnext=seconds[(name, True)]['median'] / reference,
        )
        if name in families:
            row['plain_step_s'] = seconds[(name, False)]
            row['plain_peak_mib'] = peak_allocated_of(lambda: train_step(model, x, False)) / 2**20
            row['plain_vs_convnext'] = seconds[(name, False)]['median'] / reference
        rows.append(row)
    return rows


def format_cost_row(r: dict) -> str:
    plain = (
        f'{secs(r["plain_step_s"])} | {r["plain_peak_mib"]:.0f} | {r["plain_vs_convnext"]:.2f}x'
        if 'plain_step_s' in r
        else '- | - | -'
    )
    return (
        f'| {r["model"]} | {r["input"]} | {r["params_m"]:.1f} | {plain} | '
        f'{secs(r["step_s"])} | {r["peak_mib"]:.0f} | {r["vs_convnext"]:.2f}x |'
    )


def gradient_difference(grads: dict, reference: dict) -> float:
    """Worst ``max |g - g_ref| / max |g_ref|`` over the parameters whose reference gradient
    is not zero up to rounding (see the module docstring)."""
    if grads.keys() != reference.keys():
        raise RuntimeError(
            f'gradients of different parameters: {sorted(set(grads) ^ set(reference))}'
        )
    largest = max(g.abs().max().item() for g in reference.values())
    return max(
        ((grads[k].double() - g).abs().max() / g.abs().max()).item()
        for k, g in reference.items()
        if g.abs().max().item() > 1e-9 * largest
    )


def secs(s: dict) -> str:
    return f'{s["median"]:.3f} ({s["min"]:.3f}-{s["max"]:.3f})'


def optional(row: dict, key: str) -> str:
    return f'{row[key]:.1e}' if key in row else 'not measured'


def format_row(r: dict) -> str:
    memory = (
        f'{r["plain_peak_mib"]:.0f} / {r["fast_peak_mib"]:.0f}'
        if 'plain_peak_mib' in r
        else 'not measured'
    )
    cells = [
        r['model'],
        r['input'],
        secs(r['plain_s']),
        secs(r['fast_s']),
        f'{r["speedup"]:.2f}x',
        memory,
        optional(r, 'max_rel_diff'),
    ]
    if r.get('train'):
        cells.append(optional(r, 'plain_max_rel_diff'))
    if 'compiled_s' in r:
        cells += [
            f'{r["compile_s"]:.0f}',
            secs(r['compiled_s']),
            f'{r["plain_s"]["median"] / r["compiled_s"]["median"]:.2f}x',
            f'{r["compiled_max_rel_diff"]:.1e}',
        ]
    if 'bf16_s' in r:
        cells += [
            secs(r['bf16_s']),
            f'{r["plain_s"]["median"] / r["bf16_s"]["median"]:.2f}x',
            f'{r["bf16_rel_rms_error"]:.1e}',
        ]
    return '| ' + ' | '.join(cells) + ' |'


def header(compile_: bool, bf16: bool, train: bool) -> str:
    names = [
        'model',
        'input',
        'plain s',
        'fast s',
        'speed-up',
        'peak MiB plain / fast',
        'max rel. diff',
    ]
    if train:
        names.append('plain rel. diff')
    if compile_:
        names += ['compile s', 'compiled s', 'compiled speed-up', 'compiled max rel. diff']
    if bf16:
        names += ['bf16 s', 'bf16 speed-up', 'bf16 rel. RMS error']
    return '| ' + ' | '.join(names) + ' |\n|' + '---|' * len(names)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--models', nargs='+', choices=MODELS + EXTRA_MODELS, default=list(MODELS))
    parser.add_argument(
        '--settings', nargs='+', type=parse_setting, default=[parse_setting(s) for s in SETTINGS]
    )
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--no-memory', action='store_true', help='skip the peak memory runs')
    parser.add_argument('--compile', action='store_true', help='also time torch.compile')
    parser.add_argument('--bf16', action='store_true', help='also time bf16 autocast')
    parser.add_argument(
        '--train',
        action='store_true',
        help='time training steps (forward + backward, train mode) instead of inference forwards',
    )
    parser.add_argument(
        '--no-reference',
        action='store_true',
        help='--train: skip the float64 reference step and the differences',
    )
    parser.add_argument(
        '--configs',
        nargs='+',
        metavar='CONFIG',
        help='time one training iteration of these configs\' whole models instead',
    )
    parser.add_argument(
        '--cost-table',
        action='store_true',
        help='training step of every family (fast path) next to timm\'s '
        'ConvNeXt-T, Swin-T and PVTv2-b2 instead',
    )
    parser.add_argument('--json', help='also write the rows to this file')
    add_doc_option(parser)
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error('--repeats must be at least 1')
    check_doc_option(parser, args.doc)
    report = []

    def emit(line: str):
        print(line, flush=True)
        report.append(line)

    def finish(rows):
        emit(f'\nwall time {time.perf_counter() - start:.0f} s')
        if args.json:
            with open(args.json, 'w') as f:
                json.dump(rows, f, indent=1)
        if args.doc:
            write_doc_option(args.doc, '\n'.join(report), argv, __file__)

    start = time.perf_counter()
    if args.cost_table:
        emit(
            f'CPU, {torch.get_num_threads()} threads, torch {torch.__version__}; seconds per '
            f'training step (forward + backward): median (min-max) of {args.repeats}\n'
        )
        emit(
            '| model | input | params M | plain s per step | plain peak MiB | plain vs '
            'ConvNeXt-T | s per step | peak MiB | vs ConvNeXt-T |\n' + '|---' * 9 + '|'
        )
        rows = []
        for setting in args.settings:
            for row in cost_table(setting, args.repeats):
                rows.append(row)
                emit(format_cost_row(row))
        finish(rows)
        return
    if args.configs:
        args.train, args.no_memory, args.no_reference = True, True, True
    unit = 'training step (forward + backward)' if args.train else 'forward'
    emit(
        f'CPU, {torch.get_num_threads()} threads, torch {torch.__version__}; seconds per '
        f'{unit}: median (min-max) of {args.repeats}\n'
    )
    emit(header(args.compile, args.bf16, args.train))
    rows = []
    for path in args.configs or []:
        rows.append(measure_config(path, args.repeats))
        emit(format_row(rows[-1]))
    for name in [] if args.configs else args.models:
        for setting in args.settings:
            rows.append(
                measure(
                    name,
                    setting,
                    args.repeats,
                    not args.no_memory,
                    args.compile,
                    args.bf16,
                    args.train,
                    not args.no_reference,
                )
            )
            emit(format_row(rows[-1]))
    finish(rows)


if __name__ == '__main__':
    main()
