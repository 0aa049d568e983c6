"""DMFormer (a reconstruction, docs/dmformer.md): the DMA mixer against its equations,
input-adaptive gate, every branch used, variants sized like the comparators, odd rows padded,
checkpoints and timm (the behaviour every backbone shares: test_backbone_contract.py)."""

import pytest
import torch
import torch.nn.functional as F

from mmtokenmix.checkpoints import CheckpointMismatchError
from mmtokenmix.models import DMFormer, DMFormerClassifier
from mmtokenmix.models.mixers import DMA

timm = pytest.importorskip('timm')


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def randomise(module, seed=0):
    """Random weights everywhere (biases too), so no term can hide behind a zero init."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return module


# ---- DMA -----------------------------------------------------------------------------------
def dma_by_hand(dma, x):
    """The DMA equations written with functional ops from the module's weights: parallel
    dilated depthwise levels, sum, gate = sigmoid(W2 relu(W1 GAP(X) + b1) + b2) on the input,
    output = gate * (W_fuse X' + b)."""
    C = x.shape[1]
    fused = 0
    for branch, k, d in zip(dma.branches, dma.kernel_sizes, dma.dilations):
        fused = fused + F.conv2d(
            x, branch.weight, branch.bias, padding=d * (k - 1) // 2, dilation=d, groups=C
        )
    pooled = x.mean(dim=(2, 3))
    hidden = F.relu(pooled @ dma.gate.fc1.weight.T + dma.gate.fc1.bias)
    gate = torch.sigmoid(hidden @ dma.gate.fc2.weight.T + dma.gate.fc2.bias)
    return gate[:, :, None, None] * F.conv2d(fused, dma.fuse.weight, dma.fuse.bias)


def test_dma_follows_its_equations():
    dma = randomise(DMA(16))
    x = torch.randn(2, 16, 13, 11)
    torch.testing.assert_close(dma(x), dma_by_hand(dma, x))
    assert [b.dilation for b in dma.branches] == [(1, 1), (2, 2), (3, 3)]
    assert [b.kernel_size for b in dma.branches] == [(3, 3), (5, 5), (7, 7)]


@pytest.mark.parametrize(
    'channels,kwargs,extra',
    [(64, {}, 0), (96, dict(gate_reduction=8), 0), (64, dict(projection=True), 2 * (64 * 64 + 64))],
)
def test_dma_parameter_count_is_the_specs_formula(channels, kwargs, extra):
    C, r = channels, kwargs.get('gate_reduction', 4)
    formula = (
        sum(k * k * C + C for k in (3, 5, 7)) + (C * C + C) + (2 * C * C // r + C // r + C) + extra
    )
    assert n_params(DMA(C, **kwargs)) == formula


def test_gate_is_in_unit_interval_and_depends_on_the_input():
    dma = randomise(DMA(32), seed=1)
    a, b = torch.randn(1, 32, 9, 9), torch.randn(1, 32, 9, 9) * 2 + 1
    gate_a, gate_b = dma.gate(a), dma.gate(b)
    assert gate_a.shape == (1, 32)
    assert ((gate_a > 0) & (gate_a < 1)).all() and ((gate_b > 0) & (gate_b < 1)).all()
    assert (gate_a - gate_b).abs().max() > 1e-2


def test_constant_input_gives_the_gate_of_its_values():
    """A map constant per channel pools to those constants: gate = sigmoid(W2 relu(W1 c))
    with the given numbers (no bias, identity-like weights, computed by hand)."""
    dma = DMA(4, gate_reduction=2)  # gate 4 -> 2 -> 4
    with torch.no_grad():
        dma.gate.fc1.weight.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1.0, 1.0, 0]]))
        dma.gate.fc1.bias.zero_()
        dma.gate.fc2.weight.copy_(torch.tensor([[1.0, 0], [0, 1.0], [-1.0, 0], [2.0, -1.0]]))
        dma.gate.fc2.bias.copy_(torch.tensor([0.0, 0.0, 0.0, 0.5]))
    c = torch.tensor([2.0, -1.0, 3.0, 7.0])
    x = c.view(1, 4, 1, 1).expand(1, 4, 5, 6).contiguous()
    # hidden = relu([2, -1 + 3]) = [2, 2]; logits = [2, 2, -2, 4 - 2 + 0.5]
    expected = torch.sigmoid(torch.tensor([[2.0, 2.0, -2.0, 2.5]]))
    torch.testing.assert_close(dma.gate(x), expected)
    # the mixer output is that gate times the fused map's 1x1 projection
    torch.testing.assert_close(dma(x), dma_by_hand(dma, x))


@pytest.mark.parametrize('branch_mode', ['parallel', 'cascade'])
@pytest.mark.parametrize('fusion', ['sum', 'concat'])
def test_every_branch_is_used(branch_mode, fusion):
    dma = randomise(DMA(8, branch_mode=branch_mode, fusion=fusion), seed=2).eval()
    x = torch.randn(1, 8, 15, 15)
    with torch.no_grad():
        full = dma(x)
        for i, branch in enumerate(dma.branches):
            saved = branch.weight.clone(), branch.bias.clone()
            branch.weight.zero_()
            branch.bias.zero_()
            assert (dma(x) - full).abs().max() > 1e-3, f'branch {i} has no effect'
            branch.weight.copy_(saved[0])
            branch.bias.copy_(saved[1])


def test_cascade_levels_compose_and_concat_fusion_widens_the_1x1():
    dma = randomise(DMA(8, branch_mode='cascade', fusion='concat'), seed=3)
    x = torch.randn(1, 8, 12, 12)
    levels = dma.levels(x)
    torch.testing.assert_close(levels[2], dma.branches[2](dma.branches[1](dma.branches[0](x))))
    assert dma.fuse.in_channels == 24 and dma.gate.fc1.in_features == 8
    assert DMA(8, fusion='concat', gate_input='fused').gate.fc1.in_features == 24


def test_gate_input_fused_reads_the_fused_map():
    a = randomise(DMA(8), seed=4)
    b = DMA(8, gate_input='fused')
    b.load_state_dict(a.state_dict())
    x = torch.randn(1, 8, 10, 10)
    fused = sum(a.levels(x))
    torch.testing.assert_close(b(x), b.gate(fused)[:, :, None, None] * b.fuse(fused))
    assert (a(x) - b(x)).abs().max() > 1e-3


def test_projection_wrapper_is_a_residual_around_dma():
    dma = randomise(DMA(8, projection=True), seed=5)
    x = torch.randn(1, 8, 7, 7)
    with torch.no_grad():
        dma.proj_out.weight.zero_()
        dma.proj_out.bias.zero_()
        torch.testing.assert_close(dma(x), x)


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(kernel_sizes=(3, 4), dilations=(1, 1)), 'odd'),
        (dict(kernel_sizes=(3, 5), dilations=(1,)), 'one dilation per kernel'),
        (dict(fusion='max'), 'fusion'),
        (dict(branch_mode='serial'), 'branch_mode'),
        (dict(gate_input='output'), 'gate_input'),
        (dict(gate_reduction=0), 'gate_reduction'),
        (dict(dilations=(1, 0, 3)), 'dilations'),
    ],
)
def test_bad_dma_settings_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DMA(16, **kwargs)
    with pytest.raises(ValueError, match=match):  # the backbone checks before building
        DMFormer(**kwargs)


# ---- variants --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    'arch,params,comparator',
    [
        ('s', 21_450_520, 'poolformer_s24'),
        ('m', 30_978_360, 'poolformer_s36'),
        ('b', 56_510_824, 'poolformer_m36'),
    ],
)
def test_variants_are_sized_like_the_comparators(arch, params, comparator):
    ours = n_params(timm.create_model(f'dmformer_{arch}'))
    theirs = n_params(timm.create_model(comparator))
    assert ours == params
    assert abs(ours / theirs - 1) < 0.01, (ours, theirs)


def test_layout_and_key_names():
    model = DMFormer('s')
    assert model.out_channels == [64, 128, 320, 512]
    assert [len(s) for s in model.stages] == [4, 4, 9, 4]
    keys = set(model.state_dict())
    assert {
        'downsample_layers.0.0.conv.weight',
        'downsample_layers.0.0.bn.running_mean',
        'downsample_layers.0.2.proj.conv.weight',
        'downsample_layers.0.2.proj.gn.weight',
        'downsample_layers.3.proj.conv.weight',
        'stages.2.8.norm1.weight',
        'stages.0.0.token_mixer.branches.2.weight',
        'stages.0.0.token_mixer.fuse.weight',
        'stages.0.0.token_mixer.gate.fc1.weight',
        'stages.0.0.token_mixer.gate.fc2.bias',
        'stages.0.0.layer_scale1.scale',
        'stages.3.3.mlp.fc2.bias',
        'norm0.weight',
        'norm3.bias',
    } <= keys
    assert model.downsample_layers[1].proj.conv.kernel_size == (2, 2)
    assert model.downsample_layers[0][0].conv.kernel_size == (7, 7)
    assert torch.all(model.stages[0][0].layer_scale1.scale == 1e-5)
    assert isinstance(model.stages[0][0].norm1, torch.nn.GroupNorm)
    assert model.stages[0][0].norm1.num_groups == 1


def test_custom_arch_dict_and_bad_arch():
    model = DMFormer(dict(depths=[1, 1, 2, 1], dims=[16, 32, 48, 64], mlp_ratios=[2, 2, 4, 4]))
    assert model.stages[0][0].mlp.fc1.out_channels == 32
    assert model.stages[3][0].mlp.fc1.out_channels == 256
    assert DMFormer('SMALL').arch == DMFormer.named_arch('s') | {'mlp_ratios': [4, 4, 4, 4]}
    with pytest.raises(ValueError, match=r'dims\[0\] must be at least 2'):
        DMFormer(dict(depths=[1] * 4, dims=[1, 8, 8, 8]))


# ---- dense backbone behaviour ----------------------------------------------------------------
TINY = dict(depths=[1, 1, 2, 1], dims=[16, 32, 48, 64])


def test_odd_rows_are_padded_not_dropped():
    """The 2x2/2 convs see every input row: changing the last row of an odd-sized map changes
    the output (a floor-style conv would ignore it)."""
    model = DMFormer(TINY, out_indices=(0,)).eval()
    x = torch.randn(1, 3, 33, 33)
    y = x.clone()
    y[:, :, -1] += 5
    with torch.no_grad():
        assert (model(x)[0][:, :, -1] - model(y)[0][:, :, -1]).abs().max() > 1e-4


def test_drop_path_rises_linearly_to_the_last_block():
    model = DMFormer(TINY, drop_path_rate=0.5)
    rates = [getattr(b.drop_path, 'drop_prob', 0.0) for stage in model.stages for b in stage]
    assert rates == pytest.approx([0.0, 0.125, 0.25, 0.375, 0.5])


def test_options_reach_the_blocks():
    model = DMFormer(
        TINY,
        mlp_dwconv=True,
        layer_scale_init_value=None,
        norm_cfg=dict(type='BN'),
        kernel_sizes=(3, 5),
        dilations=(1, 1),
        fusion='concat',
    )
    block = model.stages[0][0]
    assert block.mlp.dwconv.groups == 64 and isinstance(block.layer_scale1, torch.nn.Identity)
    assert isinstance(block.norm1, torch.nn.BatchNorm2d)
    assert len(block.token_mixer.branches) == 2 and block.token_mixer.fuse.in_channels == 32
    assert model(torch.randn(1, 3, 40, 40))[3].shape == (1, 64, 2, 2)


# ---- weights ---------------------------------------------------------------------------------
def test_dense_backbone_loads_an_imagenet_classifier_checkpoint(tmp_path):
    """The ImageNet weights a user trains with timm (`dmformer_s` state dict) initialise the
    dense backbone: everything but the head/final norm loads, stage outputs agree."""
    classifier = randomise(DMFormerClassifier(TINY, num_classes=10), seed=7).eval()
    path = tmp_path / 'dmformer_tiny.pth'
    torch.save({'state_dict': classifier.state_dict(), 'epoch': 300}, path)
    dense = DMFormer(
        TINY,
        out_indices=(3,),
        out_norm_cfg=None,
        init_cfg=dict(type='Pretrained', checkpoint=str(path)),
    )
    dense.init_weights()
    dense.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(dense(x)[0], classifier.forward_features(x))

    broken = {
        k: v
        for k, v in classifier.state_dict().items()
        if k != 'stages.1.0.token_mixer.gate.fc1.weight'
    }
    broken['stages.1.0.token_mixer.extra'] = torch.zeros(1)
    torch.save(broken, path)
    with pytest.raises(CheckpointMismatchError) as err:
        DMFormer(TINY, init_cfg=dict(type='Pretrained', checkpoint=str(path))).init_weights()
    assert 'stages.1.0.token_mixer.gate.fc1.weight' in str(err.value)
    assert 'stages.1.0.token_mixer.extra' in str(err.value)


def test_timm_names_classify_and_pretrained_needs_a_file(tmp_path):
    model = timm.create_model('dmformer_s', num_classes=10, drop_path_rate=0.1).eval()
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 10)
    model.reset_classifier(0)
    assert model(torch.randn(1, 3, 64, 64)).shape == (1, 512)
    assert model.pretrained_cfg['classifier'] == 'head'
    # nothing was released: pretrained=True needs a local file, and then loads it
    with pytest.raises(RuntimeError, match='no weights were released.*pretrained_cfg_overlay'):
        timm.create_model('dmformer_m', pretrained=True)
    source = timm.create_model('dmformer_s')
    torch.save(source.state_dict(), tmp_path / 'dmformer_s.pth')
    loaded = timm.create_model(
        'dmformer_s',
        pretrained=True,
        pretrained_cfg_overlay=dict(file=str(tmp_path / 'dmformer_s.pth')),
    )
    assert all(torch.equal(v, source.state_dict()[k]) for k, v in loaded.state_dict().items())
