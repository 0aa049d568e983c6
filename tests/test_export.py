"""Tracing and compiling the backbones: no silently wrong result at a size other than the one
traced, and torch.compile (inductor, CPU) giving the eager outputs and gradients (DFFormer's
FFT filter runs eagerly in compiled training: inductor's own gradients of it were up to 100%
off against a float64 eager reference)."""

import copy
import json
import os.path as osp
import sys
import warnings

import pytest
import torch
from conftest import run_tool
from mmengine import Config

from mmtokenmix.analysis import build_model_from_config
from mmtokenmix.models import CDFFormer, DFFormer, DMFormer, TransXNet, XFormer

BACKBONES = [
    (TransXNet, 't'),
    (DFFormer, 's18'),
    (CDFFormer, 's18'),
    (DMFormer, 's'),
    (XFormer, 's'),
]
# what a trace at one size does at another (docs/checkpoints.md, "torch.compile and tracing"):
# the traces of DMFormer, DFFormer and CDFFormer are valid for every size; the others fail
# loudly (TransXNet's even at another batch size)
TRACE_IS_SHAPE_GENERIC = {'DMFormer', 'DFFormer', 'CDFFormer'}


def _same(outs, refs):
    return len(outs) == len(refs) and all(
        o.shape == r.shape and torch.allclose(o, r, atol=1e-4, rtol=1e-4)
        for o, r in zip(outs, refs)
    )


@pytest.mark.parametrize('cls,arch', BACKBONES, ids=[c.__name__ for c, _ in BACKBONES])
def test_a_trace_at_another_size_is_right_or_fails_loudly(cls, arch):
    torch.manual_seed(0)
    model = cls(arch).eval()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')  # TracerWarnings about baked-in sizes
        traced = torch.jit.trace(model, torch.randn(1, 3, 64, 64), check_trace=False)
        results = {}
        for name, shape in (
            ('batch 2', (2, 3, 64, 64)),
            ('96x80', (1, 3, 96, 80)),
            ('66x70', (1, 3, 66, 70)),
        ):
            x = torch.randn(*shape)
            try:
                outs = traced(x)
            except RuntimeError:
                results[name] = 'error'
                continue
            assert _same(outs, model(x)), f'{cls.__name__} traced at 64x64: wrong at {name}'
            results[name] = 'right'
    if cls.__name__ in TRACE_IS_SHAPE_GENERIC:
        assert set(results.values()) == {'right'}, results
    else:
        assert 'error' in results.values(), results


@pytest.mark.parametrize('cls,arch', BACKBONES, ids=[c.__name__ for c, _ in BACKBONES])
def test_torch_jit_script_of_a_backbone_without_output_norms(cls, arch):
    """A dense backbone scripts when it has no output norms (XFormer's default; the others
    with ``out_norm_cfg=None``) and then computes the plain path at any size, returning a
    list; with output norms, scripting fails with a message that says what to do."""
    from mmtokenmix.models.layers.fast_paths import fast_paths

    if cls is not XFormer:
        with pytest.raises(RuntimeError, match='output norms .* out_norm_cfg=None'):
            torch.jit.script(cls(arch).eval())
    torch.manual_seed(0)
    model = cls(arch, out_norm_cfg=None).eval() if cls is not XFormer else cls(arch).eval()
    scripted = torch.jit.script(model)
    for shape in ((1, 3, 64, 64), (2, 3, 66, 70)):
        x = torch.randn(shape)
        with torch.no_grad(), fast_paths(False):
            want = model(x)
        with torch.no_grad():
            got = scripted(x)
        assert isinstance(got, list) and len(got) == len(want)
        for g, w in zip(got, want):
            torch.testing.assert_close(g, w, rtol=0, atol=1e-6 * w.abs().max().item())


def _shallow_arch(cls, arch):
    """``arch`` with one block per stage: the same layer types, a fraction of the compile time
    (inductor compiles every block of a stage separately)."""
    settings = copy.deepcopy(cls.arch_settings[arch])
    if isinstance(settings, list):  # XFormer: [type, channels, stride, ..., blocks, ...]
        for stage in settings:
            stage[3 if stage[0] == 'mv2' else 5] = 1
    else:
        settings['depths'] = [1] * len(settings['depths'])
    return settings


@pytest.mark.slow
@pytest.mark.parametrize('cls,arch', BACKBONES, ids=[c.__name__ for c, _ in BACKBONES])
def test_torch_compile_with_inductor_gives_eager_outputs_and_gradients(cls, arch):
    # inductor draws dropout masks with its own generator, so the outputs of a run with
    # dropout cannot equal eager ones: XFormer's default dropout (0.1) is off here
    no_dropout = dict(drop_rate=0.0) if cls is XFormer else {}
    torch._dynamo.reset()  # no compiled code or shape history carried over from other tests
    torch.manual_seed(0)
    model = cls(_shallow_arch(cls, arch), **no_dropout)
    x = torch.randn(2, 3, 64, 64)
    compiled = torch.compile(model, backend='inductor')
    model.eval()
    with torch.no_grad():
        assert _same(compiled(x), model(x))
    model.train()
    grads = []
    for run in (model, compiled):
        model.zero_grad()
        outs = run(x)
        sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).mean() for o in outs).backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys() and grads[0]
    # float32 sums in another order: errors relative to the model's gradient scale
    scale = max(float(g.abs().max()) for g in grads[0].values())
    for name, grad in grads[0].items():
        error = float((grads[1][name] - grad).abs().max())
        assert error <= 1e-3 * float(grad.abs().max()) + 1e-4 * scale, (name, error, scale)


@pytest.mark.slow
@pytest.mark.parametrize('cls', [DFFormer, CDFFormer])
def test_compiled_training_of_the_fft_filter_matches_a_float64_reference(cls):
    """Compiled float32 gradients against eager float64 ones, each parameter's error relative
    to its own largest entry: the check that caught inductor's wrong FFT-filter gradients
    (up to 5x off when inductor compiled the filter itself; eager float32 is within 3e-5).
    (inductor in torch 2.5 cannot compile the model in float64 itself: a C++ error.)"""
    torch._dynamo.reset()
    torch.manual_seed(0)
    model = cls(_shallow_arch(cls, 's18')).train()
    reference = copy.deepcopy(model).double()
    compiled = torch.compile(model, backend='inductor')
    x = torch.randn(2, 3, 64, 64)
    grads = []
    for module, run, inputs in ((reference, reference, x.double()), (model, compiled, x)):
        outs = run(inputs)
        sum(
            (o * torch.linspace(-1, 1, o.numel(), dtype=o.dtype).view_as(o)).mean() for o in outs
        ).backward()
        grads.append(
            {n: p.grad.double() for n, p in module.named_parameters() if p.grad is not None}
        )
    assert grads[0].keys() == grads[1].keys()
    assert any('complex_weights' in n for n in grads[0])
    for name, grad in grads[0].items():
        error = float((grads[1][name] - grad).abs().max())
        assert error <= 1e-3 * float(grad.abs().max()), (name, error)


# ---- mmengine's `compile` option through tools/train.py ----------------------------------------
COMPILE_RUN = [
    'compile=True',
    'train_cfg.max_iters=2',
    'train_cfg.val_interval=2',
    'default_hooks.checkpoint.interval=2',
    'default_hooks.logger.interval=1',
]


@pytest.mark.slow
def test_config_compile_option_compiles_the_backbone_and_keeps_checkpoint_keys(
    repo_root, toy_workdir
):
    """``compile=True`` compiles the backbone in place (mmengine's own compile of the whole
    train_step fails in torch 2.5's dynamo on AdamW.step); the checkpoint loads into an
    uncompiled model unchanged. (Compiled training of every family, DFFormer's FFT filter
    included, is checked on small models above: a whole compiled CDFFormer-S18 run cost 5 min.)"""
    config = osp.join(repo_root, 'configs/segformer_xformer_toy.py')
    work = toy_workdir / 'work_compiled'
    out = run_tool(
        [
            sys.executable,
            osp.join(repo_root, 'tools/train.py'),
            config,
            '--work-dir',
            str(work),
            '--cfg-options',
            *COMPILE_RUN,
        ],
        cwd=toy_workdir,
    )
    assert 'XFormer compiled with torch.compile' in out
    scalars = [json.loads(line) for line in open(next(work.glob('*/vis_data/scalars.json')))]
    assert any('mIoU' in s for s in scalars)
    state = torch.load(work / 'iter_2.pth', map_location='cpu', weights_only=False)
    model = build_model_from_config(Config.fromfile(config))
    model.load_state_dict(state['state_dict'], strict=True)  # no '_orig_mod.' keys
