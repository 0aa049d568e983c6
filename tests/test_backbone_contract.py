"""What every registered dense backbone must do the same way (DenseBackbone's contract), tested
once for all of them on small architectures: output shapes at odd sizes, out_indices, input
checks, frozen_stages, norm_eval, with_cp, bad arguments and strict checkpoint loading. A new
backbone only needs an entry in SPECS."""

import math
from dataclasses import dataclass, field
from typing import Callable, Dict, List

import pytest
import torch
import torch.nn as nn
from torch.nn.modules.batchnorm import _BatchNorm

import mmtokenmix.models  # noqa: F401 (registers the backbones)
from mmtokenmix.checkpoints import CheckpointMismatchError
from mmtokenmix.models import DenseBackbone
from mmtokenmix.registry import MODELS


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass
class Spec:
    cfg: dict  # a small architecture
    first_size: Callable[[int], int]  # side of stage 0's map for an input side
    halvings: List[int]  # per stage: 1 if it halves the previous map (ceil)
    stem: List[str]  # parameter-name prefixes of the stem
    stages: Callable[[int], List[str]]  # ... of stage i (downsampling, blocks, its parameters)
    out_norm: Callable[[int], str] = None  # name of the output norm of stage i (None: none)
    min_size: int = 1
    extra: Dict = field(default_factory=dict)


TINY4 = dict(depths=[1, 1, 1, 1], dims=[16, 32, 64, 128])


def metaformer_stage_prefixes(i):
    return [f'stages.{i}.'] + ([f'downsample_layers.{i}.'] if i else [])


SPECS = {
    'TransXNet': Spec(
        dict(
            type='TransXNet',
            arch=dict(TINY4, num_groups=[2] * 4, sr_ratios=[8, 4, 2, 1], num_heads=[1, 2, 2, 4]),
        ),
        lambda n: ceil_div(n, 4),
        [0, 1, 1, 1],
        ['patch_embed.'],
        lambda i: (
            [f'network.{2 * i}.', f'relative_pos_enc.{i}']
            + ([f'network.{2 * i - 1}.'] if i else [])
        ),
        lambda i: f'norm{2 * i}',
    ),
    'DFFormer': Spec(
        dict(type='DFFormer', arch=dict(TINY4, mixers=['dynamic_filter'] * 4), nominal_size=64),
        lambda n: (n - 3) // 4 + 1,
        [0, 1, 1, 1],
        ['downsample_layers.0.'],
        metaformer_stage_prefixes,
        lambda i: f'norm{i}',
        min_size=3,
    ),
    'CDFFormer': Spec(
        dict(
            type='CDFFormer',
            arch=dict(TINY4, mixers=['sepconv'] * 2 + ['dynamic_filter'] * 2),
            nominal_size=64,
        ),
        lambda n: (n - 3) // 4 + 1,
        [0, 1, 1, 1],
        ['downsample_layers.0.'],
        metaformer_stage_prefixes,
        lambda i: f'norm{i}',
        min_size=3,
    ),
    'MetaFormer': Spec(
        dict(type='MetaFormer', arch=dict(TINY4, mixers=['sepconv'] * 2 + ['attention'] * 2)),
        lambda n: (n - 3) // 4 + 1,
        [0, 1, 1, 1],
        ['downsample_layers.0.'],
        metaformer_stage_prefixes,
        lambda i: f'norm{i}',
        min_size=3,
    ),
    'DMFormer': Spec(
        dict(type='DMFormer', arch=TINY4),
        lambda n: ceil_div(n, 4),
        [0, 1, 1, 1],
        ['downsample_layers.0.'],
        metaformer_stage_prefixes,
        lambda i: f'norm{i}',
    ),
    # the other papers' mixers in the shared skeleton (one per stage)
    'MixerNet': Spec(
        dict(type='MixerNet', arch=dict(TINY4, mixers=['dmixer', 'xfa', 'dma', 'pooling'])),
        lambda n: (n - 3) // 4 + 1,
        [0, 1, 1, 1],
        ['downsample_layers.0.'],
        metaformer_stage_prefixes,
        lambda i: f'norm{i}',
        min_size=3,
    ),
    'XFormer': Spec(
        dict(
            type='XFormer',
            out_indices=(0, 1, 2, 3, 4),
            arch=dict(
                kinds=['mv2', 'mv2', 'xformer', 'xformer', 'xformer'],
                dims=[8, 16, 24, 32, 40],
                strides=[1, 2, 2, 2, 2],
                depths=[1, 1, 1, 1, 1],
                expand_ratios=[2] * 5,
                transformer_dims=[None, None, 16, 16, 16],
                ffn_dims=[None, None, 32, 32, 32],
            ),
            attn_cfg=dict(variant='xca', num_heads=2),
        ),
        lambda n: ceil_div(n, 2),
        [0, 1, 1, 1, 1],
        ['stem.'],
        lambda i: [f'layers.{i}.'],
    ),
}
NAMES = sorted(SPECS)


def build(name: str, **kwargs) -> DenseBackbone:
    return MODELS.build(dict(SPECS[name].cfg, **kwargs))


def randomised(name: str) -> DenseBackbone:
    """A model whose weights are all moved off their initialisation (to tell loads apart)."""
    model = build(name)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p))
    return model


def test_every_registered_backbone_has_a_spec():
    registered = {
        name
        for name, cls in MODELS.module_dict.items()
        if isinstance(cls, type) and issubclass(cls, DenseBackbone)
    }
    assert registered == set(SPECS)


@pytest.mark.parametrize('name', NAMES)
@pytest.mark.parametrize('size', [(97, 131), (33, 47), (3, 3)])
def test_any_input_size_gives_the_expected_maps(name, size):
    spec = SPECS[name]
    model = build(name).eval()
    h, w = size
    with torch.no_grad():
        outs = model(torch.randn(2, 3, h, w))
    expected, sides = [], [spec.first_size(h), spec.first_size(w)]
    for i, halve in enumerate(spec.halvings):
        if halve:
            sides = [ceil_div(s, 2) for s in sides]
        expected.append((2, model.out_channels[i], *sides))
    assert [tuple(o.shape) for o in outs] == [expected[i] for i in model.out_indices]
    assert all(torch.isfinite(o).all() for o in outs)


@pytest.mark.parametrize('name', NAMES)
def test_out_indices_select_the_stages_and_their_output_norms(name):
    spec = SPECS[name]
    n = build(name).num_stages
    model = build(name, out_indices=(1, -1)).eval()
    assert model.out_indices == (1, n - 1)
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [model.out_channels[1], model.out_channels[-1]]
    if spec.out_norm:
        keys = model.state_dict().keys()
        for i in range(n):
            assert any(k.startswith(spec.out_norm(i) + '.') for k in keys) == (i in (1, n - 1))


@pytest.mark.parametrize('name', NAMES)
def test_every_returned_map_comes_out_of_its_output_norm(name):
    """The one stage loop (DenseBackbone.forward_stages) applies the output norms for every
    family, XFormer's too when it is given some (it has none by default)."""
    kwargs = {} if SPECS[name].out_norm else dict(out_norm_cfg=dict(type='GN', num_groups=1))
    model = build(name, **kwargs).eval()
    assert sorted(model.out_norm_names) == list(model.out_indices)
    seen = {}
    for stage, norm_name in model.out_norm_names.items():
        getattr(model, norm_name).register_forward_hook(
            lambda m, args, out, stage=stage: seen.setdefault(stage, out)
        )
    with torch.no_grad():
        outs = model(torch.randn(1, 3, 64, 64))
    assert sorted(seen) == list(model.out_indices)
    for stage, out in zip(model.out_indices, outs):
        normed = seen[stage].permute(0, 3, 1, 2) if model.channels_last else seen[stage]
        assert torch.equal(out, normed)


@pytest.mark.parametrize('name', NAMES)
def test_input_checks(name):
    model = build(name).eval()
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\)'):
        model(torch.randn(1, 4, 32, 32))
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\)'):
        model(torch.randn(3, 32, 32))
    with pytest.raises(ValueError, match='batch of 0'):
        model(torch.randn(0, 3, 32, 32))
    one_channel = build(name, in_channels=1).eval()
    assert one_channel.in_channels == 1 and len(one_channel(torch.randn(1, 1, 32, 32)))
    if SPECS[name].min_size > 1:
        with pytest.raises(ValueError, match='at least'):
            model(torch.randn(1, 3, 2, 2))


def _is_in(name: str, prefixes: List[str]) -> bool:
    return any(name.startswith(p) for p in prefixes)


@pytest.mark.parametrize('name', NAMES)
@pytest.mark.parametrize('frozen', [0, 2])
def test_frozen_stages_get_no_gradient_and_stay_in_eval_mode(name, frozen):
    spec = SPECS[name]
    model = build(name, frozen_stages=frozen)
    prefixes = list(spec.stem)
    for i in range(frozen):
        prefixes += spec.stages(i) + ([spec.out_norm(i) + '.'] if spec.out_norm else [])
    params = dict(model.named_parameters())
    frozen_names = {n for n, p in params.items() if not p.requires_grad}
    assert frozen_names == {n for n in params if _is_in(n, prefixes)} and frozen_names
    model.train()
    for module_name, module in model.named_modules():
        if module_name and _is_in(module_name + '.', prefixes):
            assert not module.training, module_name
    stats = {n: b.clone() for n, b in model.named_buffers() if n.endswith('running_mean')}
    outs = model(torch.randn(2, 3, 64, 64))
    sum(o.mean() for o in outs).backward()
    for n, p in params.items():
        assert (p.grad is None) == (n in frozen_names), n
    for n, before in stats.items():
        moved = not torch.equal(dict(model.named_buffers())[n], before)
        assert moved != _is_in(n, prefixes), n


@pytest.mark.parametrize('name', NAMES)
def test_norm_eval_keeps_batchnorm_statistics(name):
    model = build(name, norm_eval=True).train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert all(not m.training for m in bns)
    before = [m.running_mean.clone() for m in bns]
    model(torch.randn(2, 3, 64, 64))
    assert all(torch.equal(m.running_mean, b) for m, b in zip(bns, before))
    if bns:  # without norm_eval the statistics move
        plain = build(name).train()
        plain_bns = [m for m in plain.modules() if isinstance(m, _BatchNorm)]
        plain_before = [m.running_mean.clone() for m in plain_bns]
        plain(torch.randn(2, 3, 64, 64))
        assert not all(torch.equal(m.running_mean, b) for m, b in zip(plain_bns, plain_before))


@pytest.mark.parametrize('name', NAMES)
def test_with_cp_recomputes_each_block_with_the_same_outputs_and_gradients(name, monkeypatch):
    import torch.utils.checkpoint as cp

    from mmtokenmix.models.backbones import base

    model = build(name, drop_path_rate=0.1)
    model_cp = build(name, drop_path_rate=0.1, with_cp=True)
    model_cp.load_state_dict(model.state_dict())
    calls, checkpoint = [], cp.checkpoint

    def counting_checkpoint(fn, *args, **kwargs):
        calls.append(fn)
        return checkpoint(fn, *args, **kwargs)

    monkeypatch.setattr(base.cp, 'checkpoint', counting_checkpoint)
    x = torch.randn(2, 3, 64, 80)
    results = []
    for m in (model, model_cp):
        m.train()
        torch.manual_seed(1)
        outs = m(x)
        sum((o * (i + 1)).mean() for i, o in enumerate(outs)).backward()
        results.append(
            ([o.detach() for o in outs], {n: p.grad.clone() for n, p in m.named_parameters()})
        )
    blocks = [b for m in model_cp.modules() if isinstance(m, base.StageBlocks) for b in m]
    assert len(calls) == len(blocks) and set(map(id, calls)) == set(map(id, blocks))
    for a, b in zip(results[0][0], results[1][0]):
        torch.testing.assert_close(a, b)
    assert results[0][1].keys() == results[1][1].keys()
    for n in results[0][1]:
        torch.testing.assert_close(results[0][1][n], results[1][1][n], rtol=1e-4, atol=1e-6, msg=n)


@pytest.mark.parametrize('name', NAMES)
def test_bad_arguments_raise_clear_errors(name):
    cls = MODELS.get(name)
    arch = SPECS[name].cfg['arch']
    n = cls.num_stages
    cases = [
        (dict(arch='no_such_arch'), f'unknown {name} arch'),
        (dict(arch={k: v for k, v in arch.items() if k != 'dims'}), 'lacks'),
        (dict(arch=dict(arch, depths=arch['depths'][:-1])), f'needs {n} values'),
        (dict(arch=dict(arch, depths=[0] * n)), 'positive ints'),
        (dict(arch=dict(arch, no_such_key=[1] * n)), 'unknown keys'),
        (dict(out_indices=(n,)), 'out_indices'),
        (dict(out_indices=(2, 1)), 'increasing'),
        (dict(out_indices=()), 'empty'),
        (dict(frozen_stages=n + 1), 'frozen_stages'),
        (dict(with_cp=[True, False]), 'with_cp'),
        (dict(in_channels=0), 'in_channels'),
    ]
    for kwargs, match in cases:
        with pytest.raises(ValueError, match=match):
            build(name, **kwargs)
    with pytest.raises(TypeError, match='str or a dict'):
        build(name, arch=[1, 2, 3])


@pytest.mark.parametrize('name', NAMES)
def test_pretrained_checkpoints_load_strictly(name, tmp_path):
    source = randomised(name)
    state_dict = source.state_dict()
    good = tmp_path / 'good.pth'
    torch.save(dict(state_dict, **{'head.fc.weight': torch.zeros(2, 2)}), good)
    model = build(name, init_cfg=dict(type='Pretrained', checkpoint=str(good)))
    model.init_weights()
    for k, v in model.state_dict().items():
        assert torch.equal(v, state_dict[k]), k

    damaged = dict(state_dict)
    missing = next(k for k in damaged if k.endswith('weight') and not k.startswith('norm'))
    damaged.pop(missing)
    damaged['stages_typo.0.weight'] = torch.zeros(1)
    torch.save(damaged, tmp_path / 'bad.pth')
    model = build(name, init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'bad.pth')))
    with pytest.raises(CheckpointMismatchError) as err:
        model.init_weights()
    assert missing in str(err.value) and 'stages_typo.0.weight' in str(err.value)


@pytest.mark.parametrize('name', NAMES)
def test_construction_finishes_once_after_init(name):
    model = build(name)
    assert model.out_channels and len(model.out_channels) == model.num_stages
    assert model.in_channels == 3 and math.isfinite(sum(p.sum().item() for p in model.parameters()))

    class WithoutHooks(DenseBackbone):
        def __init__(self):
            super().__init__()
            self.layer = nn.Conv2d(3, 3, 1)

    # the hooks are abstract: a backbone missing one cannot be built
    with pytest.raises(TypeError, match='abstract .*forward_stage'):
        WithoutHooks()

    class WithoutWidths(WithoutHooks):
        forward_stem = forward_stage = stem_parts = stage_parts = reset_parameters = None

    with pytest.raises(TypeError, match='must set self.out_channels'):
        WithoutWidths()


def test_construction_finishes_after_the_outermost_init():
    """A class built on a backbone (as the classifiers are) gets finish_construction once,
    after its own __init__: the paper's initialisation then covers what it added."""
    from mmtokenmix.models import TransXNet

    calls = []

    class WithHead(TransXNet):
        def __init__(self):
            super().__init__(arch=SPECS['TransXNet'].cfg['arch'])
            calls.append('init done')
            self.head = nn.Conv2d(128, 3, 1)
            nn.init.zeros_(self.head.weight)

        def finish_construction(self):
            calls.append('finish')
            super().finish_construction()

    model = WithHead()
    assert calls == ['init done', 'finish']
    assert model.head.weight.abs().sum() > 0  # re-initialised by reset_parameters (trunc normal)


@pytest.mark.parametrize('name', NAMES)
def test_pretrained_argument_is_short_for_a_pretrained_init_cfg(name, tmp_path):
    """mmseg's segmentors hand ``model.pretrained`` to the backbone as ``pretrained=``."""
    source = randomised(name)
    path = str(tmp_path / 'weights.pth')
    torch.save(source.state_dict(), path)
    model = build(name, pretrained=path)
    assert model.init_cfg == dict(type='Pretrained', checkpoint=path)
    model.init_weights()
    for k, v in model.state_dict().items():
        assert torch.equal(v, source.state_dict()[k]), k

    with pytest.raises(ValueError, match='both set'):
        build(name, pretrained=path, init_cfg=dict(type='Pretrained', checkpoint=path))
    for stock in ('open-mmlab://resnet50_v1c', 'torchvision://resnet50', 'mmcls://resnet50'):
        with pytest.raises(ValueError, match=r'model\.pretrained=None'):
            build(name, pretrained=stock)
    with pytest.raises(TypeError, match='checkpoint path or URL'):
        build(name, pretrained=True)


@pytest.mark.parametrize('name', NAMES)
def test_empty_or_typeless_init_cfg(name, tmp_path):
    """The config bases write ``init_cfg=dict()``: empty is the paper's initialisation, and a
    dict of ``checkpoint`` without ``type`` (what ``--cfg-options
    model.backbone.init_cfg.checkpoint=X`` makes of it) is a Pretrained init."""
    torch.manual_seed(0)
    paper = build(name, init_cfg=None)
    paper.init_weights()
    for empty in (dict(), []):
        torch.manual_seed(0)
        model = build(name, init_cfg=empty)
        assert model.init_cfg is None
        model.init_weights()
        for k, v in model.state_dict().items():
            assert torch.equal(v, paper.state_dict()[k]), k

    source = randomised(name)
    path = str(tmp_path / 'weights.pth')
    torch.save(source.state_dict(), path)
    model = build(name, init_cfg=dict(checkpoint=path))
    assert model.init_cfg == dict(type='Pretrained', checkpoint=path)
    model.init_weights()
    for k, v in model.state_dict().items():
        assert torch.equal(v, source.state_dict()[k]), k
    # an empty init_cfg does not clash with mmseg's pretrained=
    assert build(name, pretrained=path, init_cfg=dict()).init_cfg['checkpoint'] == path

    with pytest.raises(ValueError, match=r"{'layer': 'conv'.* has no type"):
        build(name, init_cfg=dict(layer='conv', checkpoint=path))
