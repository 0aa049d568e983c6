"""MixerNet: every token mixer in the one skeleton at matched parameter budgets."""

import math

import pytest
import torch

import mmtokenmix.models  # noqa: F401 (registers the backbones)
from mmtokenmix.models.backbones.mixernet import (
    BUDGET_TOLERANCE,
    BUDGETS,
    MixerNet,
    count_params,
    variant_arch,
)
from mmtokenmix.models.mixers import (
    DMA,
    Attention,
    CrossFeatureAttention,
    DMixer,
    DynamicFilter,
    SepConv,
)
from mmtokenmix.models.mixers.catalogue import MIXERS, build_mixer
from mmtokenmix.registry import MODELS

MIXER_CLASS = {
    'dynamic_filter': DynamicFilter,
    'sepconv': SepConv,
    'attention': Attention,
    'dmixer': DMixer,
    'xfa': CrossFeatureAttention,
    'dma': DMA,
}


@pytest.mark.parametrize('budget', sorted(BUDGETS))
@pytest.mark.parametrize('mixer', MIXERS)
def test_every_mixer_meets_the_budget_with_the_closest_width(mixer, budget):
    target = BUDGETS[budget]['params']
    unit = MIXERS[mixer].width_units[budget]
    params = count_params(variant_arch(mixer, budget))
    assert abs(params / target - 1) <= BUDGET_TOLERANCE, (mixer, budget, params)
    # the catalogue's width is the best of its neighbours (it is what the search finds)
    for other in (unit - 0.5, unit + 0.5):
        assert abs(params - target) <= abs(
            count_params(variant_arch(mixer, budget, other)) - target
        )


@pytest.mark.parametrize('mixer', MIXERS)
def test_each_toy_variant_builds_runs_and_has_its_mixer(mixer):
    torch.manual_seed(0)
    model = MODELS.build(dict(type='MixerNet', arch=f'{mixer}-toy'))
    assert sum(p.numel() for p in model.parameters()) == count_params(variant_arch(mixer, 'toy'))
    blocks = [block for stage in model.stages for block in stage]
    for block in blocks:  # the wrapped mixer keeps the paper's module (names gain `.mixer`)
        inner = getattr(block.token_mixer, 'mixer', block.token_mixer)
        if mixer == 'pooling':
            assert type(inner).__name__ == 'Pooling'
        elif mixer != 'attention':
            assert isinstance(inner, MIXER_CLASS[mixer])
    if mixer == 'attention':  # CAFormer's layout: separable convs where attention is quadratic
        assert [type(s[0].token_mixer) for s in model.stages] == [
            SepConv,
            SepConv,
            Attention,
            Attention,
        ]
    x = torch.randn(2, 3, 64, 96)
    outs = model(x)
    assert [tuple(o.shape) for o in outs] == [
        (2, c, 64 // s, 96 // s) for c, s in zip(model.out_channels, (4, 8, 16, 32))
    ]
    sum(o.float().pow(2).mean() for o in outs).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_variants_differ_only_in_the_token_mixer():
    names = {}
    for mixer in ('sepconv', 'dma'):
        model = MixerNet(arch=variant_arch(mixer, 'toy', unit=32.0))
        names[mixer] = {k for k in model.state_dict() if '.token_mixer.' not in k}
    assert names['sepconv'] == names['dma']


def test_bad_names_are_refused_with_the_choices():
    with pytest.raises(ValueError, match='unknown MixerNet arch'):
        MixerNet(arch='convolution-toy')
    with pytest.raises(ValueError, match="unknown token mixer 'conv'.*dmixer"):
        MixerNet(arch=dict(depths=[1] * 4, dims=[16, 32, 64, 128], mixers=['conv'] * 4))
    with pytest.raises(ValueError, match='unknown MixerNet budget'):
        variant_arch('dma', 'huge')
    with pytest.raises(ValueError, match="unknown token mixer 'conv'.*pooling"):
        build_mixer('conv', 64, (8, 8))


def test_every_catalogue_mixer_keeps_a_channels_last_map():
    """What MetaFormer needs of every catalogue entry: (B, H, W, C) in, the same shape out."""
    torch.manual_seed(0)
    x = torch.randn(2, 8, 12, 64)
    for name in MIXERS:
        assert build_mixer(name, 64, (8, 12), stage=2)(x).shape == x.shape, name


def test_dmixer_blocks_of_a_stage_share_the_stage_position_encoding():
    """As TransXNet: one relative position encoding per stage, handed to every block's OSRA
    as its attention bias, sized for the nominal feature map (heads x H*W x reduced H*W)."""
    torch.manual_seed(0)
    model = MixerNet(arch='dmixer-toy', nominal_size=128)
    heads = []
    for i, stage in enumerate(model.stages):
        encodings = {id(block.token_mixer.position_encoding) for block in stage}
        assert len(encodings) == 1, i  # one module, shared
        weight = stage[0].token_mixer.position_encoding.weight
        num_heads = stage[0].token_mixer.mixer.global_unit.num_heads
        side, sr = 128 // 2 ** (i + 2), (8, 4, 2, 1)[i]
        assert weight.shape == (1, num_heads, side * side, math.ceil(side / sr) ** 2)
        assert not weight.any()  # zero at init, as TransXNet
        heads.append(num_heads)
    assert heads == [1, 1, 3, 4]
    # the encoding is the attention bias: it changes the output and receives gradients
    x = torch.randn(2, 3, 96, 128)  # not the nominal size: OSRA resizes the encoding
    model.eval()
    before = model(x)[3]
    with torch.no_grad():
        model.stages[3][0].token_mixer.position_encoding.weight.normal_()
    after = model(x)[3]
    assert not torch.allclose(before, after)
    model.train()
    sum(o.pow(2).mean() for o in model(x)).backward()
    for stage in model.stages:
        grad = stage[0].token_mixer.position_encoding.weight.grad
        assert grad is not None and grad.abs().sum() > 0
