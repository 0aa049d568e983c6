"""DFFormer / CDFFormer: the official layout and numbers (docs/dfformer.md), the DynamicFilter
against an independent functional reference, official checkpoints, mixed precision and
determinism."""

import pytest
import torch
import torch.nn.functional as F
from official_layout import dfformer_shapes, random_state_dict

from mmtokenmix.checkpoints import CheckpointMismatchError
from mmtokenmix.models import CDFFormer, DFFormer, MetaFormer, MetaFormerClassifier
from mmtokenmix.models.mixers import DynamicFilter, bicubic_matrix, resize_complex_weight

FAMILIES = {'dfformer': DFFormer, 'cdfformer': CDFFormer}
# parameter counts of the upstream classifiers (instantiated at 224), in millions
PARAMS_M = {
    ('dfformer', 's18'): 30.32,
    ('dfformer', 's36'): 45.61,
    ('dfformer', 'm36'): 65.32,
    ('dfformer', 'b36'): 114.99,
    ('cdfformer', 's18'): 30.19,
    ('cdfformer', 's36'): 45.23,
    ('cdfformer', 'm36'): 64.43,
    ('cdfformer', 'b36'): 113.37,
}


def classifier(family, arch):
    return MetaFormerClassifier(FAMILIES[family].named_arch(arch))


def shapes_of(module):
    return {k: tuple(v.shape) for k, v in module.state_dict().items()}


@pytest.mark.parametrize('family,arch', sorted(PARAMS_M))
def test_classification_params_and_layout_equal_official(family, arch):
    model = classifier(family, arch)
    assert round(sum(p.numel() for p in model.parameters()) / 1e6, 2) == PARAMS_M[family, arch]
    assert shapes_of(model) == dict(dfformer_shapes(family, arch))


# the upstream dense backbones (output norms included) with filter bases for 800 (detection) / 512
DENSE_PARAMS_M = {
    ('dfformer', 's18'): (27.87, 27.46),
    ('dfformer', 's36'): (43.58, 42.90),
    ('dfformer', 'm36'): (62.75, 62.07),
    ('dfformer', 'b36'): (110.62, 109.94),
    ('cdfformer', 's18'): (27.18, 27.12),
    ('cdfformer', 's36'): (42.31, 42.19),
    ('cdfformer', 'm36'): (60.97, 60.86),
    ('cdfformer', 'b36'): (108.11, 107.99),
}


@pytest.mark.parametrize('family,arch', sorted(DENSE_PARAMS_M))
def test_dense_backbone_params_equal_official(family, arch):
    counts = tuple(
        round(sum(p.numel() for p in FAMILIES[family](arch, nominal_size=n).parameters()) / 1e6, 2)
        for n in (800, 512)
    )
    assert counts == DENSE_PARAMS_M[family, arch]


def test_official_key_counts():
    assert len(dfformer_shapes('dfformer', 's18')) == 314  # keys of the official file
    assert len(dfformer_shapes('cdfformer', 's18')) == 290


@pytest.mark.parametrize(
    'family,nominal,norms', [('dfformer', 800, (0, 1, 2, 3)), ('cdfformer', 512, (1, 2, 3))]
)
def test_dense_layout_equals_the_official_wrappers(family, nominal, norms):
    model = FAMILIES[family]('s18', nominal_size=nominal, out_indices=norms)
    assert shapes_of(model) == dict(dfformer_shapes(family, 's18', nominal, dense_norms=norms))
    # bases per stage at the detection nominal size
    if family == 'dfformer':
        assert [tuple(s[0].token_mixer.complex_weights.shape[:2]) for s in model.stages] == [
            (200, 101),
            (100, 51),
            (50, 26),
            (25, 13),
        ]


# ---- the DynamicFilter, step by step (docs/dfformer.md) ----------------------------------------
def reference_dynamic_filter(m, x, resize_to=None):
    """The filter's 7 steps (docs/dfformer.md) written functionally, independent of the
    module's forward."""
    B, H, W, C = x.shape
    star = lambda act, t: act.scale * torch.relu(t) ** 2 + act.bias  # noqa: E731
    hidden = star(m.reweight.act, x.mean(dim=(1, 2)) @ m.reweight.fc1.weight.t())
    r = (hidden @ m.reweight.fc2.weight.t()).view(B, 4, -1).softmax(dim=1)
    y = star(m.act1, x @ m.pwconv1.weight.t()).float()
    Y = torch.fft.rfft2(y, dim=(1, 2), norm='ortho')
    bases = m.complex_weights
    if bases.shape[:2] != Y.shape[1:3]:
        h, w = Y.shape[1:3]
        bases = F.interpolate(
            bases.reshape(1, *bases.shape[:2], 8).permute(0, 3, 1, 2),
            size=(h, w),
            mode='bicubic',
            align_corners=True,
        )
        bases = bases.permute(0, 2, 3, 1).reshape(h, w, 4, 2)
    K = torch.complex(bases[..., 0], bases[..., 1])  # (h, w, 4)
    filt = (r.to(torch.complex64)[:, None, None] * K[None, ..., None]).sum(dim=3)
    out = torch.fft.irfft2(Y * filt, s=(H, W), dim=(1, 2), norm='ortho')
    return out @ m.pwconv2.weight.t()


@pytest.mark.parametrize('size', [(32, 32), (17, 23), (40, 9)])
def test_dynamic_filter_equals_the_reference(size):
    torch.manual_seed(0)
    m = DynamicFilter(16, feature_size=32).eval()
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.1)
    x = torch.randn(2, *size, 16)
    torch.testing.assert_close(m(x), reference_dynamic_filter(m, x), rtol=1e-5, atol=1e-6)


def test_reweighting_is_a_softmax_over_the_filters_per_channel():
    """fc2's output index is ``f * med + c``: with all bases equal to one constant, the filter
    is that constant whatever the routing (weights sum to 1 over the 4 filters)."""
    m = DynamicFilter(8, feature_size=16)
    with torch.no_grad():
        m.complex_weights.zero_()
        m.complex_weights[..., 0] = 1.0  # every basis = 1 + 0j: filtering is the identity
        m.reweight.fc2.weight.normal_(0, 3.0)
    x = torch.randn(2, 16, 16, 8)
    y = m.act1(m.pwconv1(x))
    torch.testing.assert_close(m(x), m.pwconv2(y), rtol=1e-5, atol=1e-5)


def test_resize_to_the_same_size_is_an_exact_identity():
    w = torch.randn(14, 8, 4, 2)
    assert torch.equal(resize_complex_weight(w, 14, 8), w)
    assert torch.equal(resize_complex_weight(w, 14, 8, use_matrices=True), w)
    assert torch.equal(bicubic_matrix(7, 7, align_corners=True), torch.eye(7))


@pytest.mark.parametrize(
    'src,dst', [((56, 29), (200, 101)), ((128, 65), (25, 86)), ((7, 4), (1, 1)), ((3, 2), (9, 5))]
)
def test_matrix_resize_equals_bicubic_interpolation(src, dst):
    """The deterministic (matrix) path computes the same bicubic resize: real and imaginary
    parts of each basis as channels, align_corners=True, the corner frequencies pinned."""
    w = torch.randn(*src, 4, 2, requires_grad=True)
    a = resize_complex_weight(w, *dst)
    b = resize_complex_weight(w, *dst, use_matrices=True)
    torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    (ga,) = torch.autograd.grad(a.square().sum(), w)
    (gb,) = torch.autograd.grad(b.square().sum(), w)
    torch.testing.assert_close(ga, gb, rtol=1e-5, atol=1e-5)
    if min(dst) > 1:
        assert torch.equal(a[0, 0], w[0, 0]) and torch.equal(a[-1, -1], w[-1, -1])


def test_filter_bases_follow_the_actual_feature_size_and_get_gradients():
    m = DynamicFilter(8, feature_size=32)  # bases (32, 17)
    x = torch.randn(1, 20, 27, 8)
    assert m.filter_bases(20, 27).shape == (20, 14, 4)
    m(x).sum().backward()
    assert m.complex_weights.grad.abs().sum() > 0


# ---- the dense backbone ---------------------------------------------------------------------
@pytest.mark.parametrize(
    'kwargs,match',
    [
        (
            dict(arch=dict(depths=[1] * 4, dims=[8, 16, 32, 64], mixers=['fft'] * 4)),
            'unknown token mixer',
        ),
        (dict(nominal_size=16), 'at least 32'),
        (dict(nominal_size=(64, 64, 64)), 'int or'),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        DFFormer(**kwargs)


def test_custom_arch_dict_mixes_mixers_per_stage():
    arch = dict(
        depths=[1, 1, 2, 1],
        dims=[16, 32, 64, 64],
        mixers=['sepconv', 'dynamic_filter', 'attention', 'dynamic_filter'],
    )
    model = MetaFormer(arch, nominal_size=64, out_indices=(1, 3)).eval()
    kinds = [type(s[0].token_mixer).__name__ for s in model.stages]
    assert kinds == ['SepConv', 'DynamicFilter', 'Attention', 'DynamicFilter']
    outs = model(torch.randn(2, 3, 64, 48))
    assert [tuple(o.shape) for o in outs] == [(2, 32, 8, 6), (2, 64, 2, 2)]
    assert not hasattr(model, 'norm0') and hasattr(model, 'norm3')
    # res scale only in stages 3-4, no layer scale (upstream defaults)
    blocks = [s[0] for s in model.stages]
    assert [type(b.res_scale1).__name__ for b in blocks] == ['Identity'] * 2 + ['Scale'] * 2
    assert all(type(b.layer_scale1).__name__ == 'Identity' for b in blocks)


def test_default_init_follows_upstream():
    model = DFFormer('s18', nominal_size=64)
    model.init_weights()
    fc = model.stages[1][0].mlp.fc1.weight
    assert abs(fc.std().item() - 0.02) < 0.002 and fc.abs().max() < 0.2
    assert torch.all(model.stages[2][0].res_scale1.scale == 1)
    act = model.stages[0][0].token_mixer.act1
    assert act.scale.item() == 1 and act.bias.item() == 0
    bases = model.stages[0][0].token_mixer.complex_weights
    assert abs(bases.std().item() - 0.02) < 0.003 and bases.abs().max() > 0.04  # plain normal
    assert torch.all(model.norm2.weight == 1) and torch.all(model.norm2.bias == 0)


# ---- official checkpoints -------------------------------------------------------------------
def test_imagenet_checkpoint_loads_with_bases_resized_to_the_nominal_size(tmp_path):
    sd = random_state_dict(dfformer_shapes('dfformer', 's18'), seed=3)
    torch.save(sd, tmp_path / 'dfformer_s18.pth')  # raw state dict, as released
    model = DFFormer(
        's18',
        nominal_size=800,
        out_indices=(1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'dfformer_s18.pth')),
    )
    model.init_weights()
    own = model.state_dict()
    key = 'stages.0.2.token_mixer.complex_weights'
    base = sd[key].reshape(1, 56, 29, 8).permute(0, 3, 1, 2)
    expected = F.interpolate(base, size=(200, 101), mode='bicubic', align_corners=True)
    assert torch.equal(own[key], expected.permute(0, 2, 3, 1).reshape(200, 101, 4, 2))
    for k, v in sd.items():
        if 'complex_weights' not in k and not k.startswith(('head.', 'norm.')):
            assert torch.equal(own[k], v), k


def test_checkpoint_of_another_model_fails_listing_keys(tmp_path):
    sd = random_state_dict(dfformer_shapes('dfformer', 's18'), seed=3)
    del sd['stages.1.2.mlp.fc1.weight']
    sd['stages.1.3.mlp.fc1.weight'] = torch.zeros(512, 128)
    torch.save(sd, tmp_path / 'bad.pth')
    model = CDFFormer('s18', init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'bad.pth')))
    with pytest.raises(CheckpointMismatchError) as err:
        model.init_weights()
    msg = str(err.value)
    assert 'stages.1.2.mlp.fc1.weight' in msg and 'stages.1.3.mlp.fc1.weight' in msg
    assert 'stages.0.0.token_mixer.dwconv.weight' in msg  # a DFFormer file is no CDFFormer


def test_converter_handles_imagenet_and_official_dense_checkpoints():
    from official_layout import dfformer_dense_shapes

    from mmtokenmix.converters.dfformer import convert_dfformer_checkpoint

    sd, info = convert_dfformer_checkpoint(
        random_state_dict(dfformer_shapes('cdfformer', 'm36'), seed=1), nominal_size=512
    )
    assert (info['family'], info['arch'], info['stored_size']) == ('cdfformer', 'm36', 224)
    assert sd['backbone.stages.2.0.token_mixer.complex_weights'].shape == (32, 17, 4, 2)
    assert not any(k.startswith(('backbone.head.', 'backbone.norm.')) for k in sd)

    whole = random_state_dict(dfformer_dense_shapes('retinanet', 'dfformer', 's36'), seed=2)
    sd, info = convert_dfformer_checkpoint({'state_dict': whole, 'meta': {}})
    assert (info['family'], info['arch'], info['model'], info['nominal_size']) == (
        'dfformer',
        's36',
        'retinanet',
        800,
    )
    # the unused norm0 of the official RetinaNet is dropped, everything else kept unchanged
    assert set(whole) - set(sd) == {'backbone.norm0.weight', 'backbone.norm0.bias'}
    assert all(torch.equal(sd[k], whole[k]) for k in sd)


# ---- precision and determinism --------------------------------------------------------------
def test_bf16_autocast_trains_with_the_fft_in_float32():
    from mmengine.runner.amp import autocast

    model = CDFFormer('s18', nominal_size=64)
    dtypes = []
    model.stages[2][0].token_mixer.pwconv2.register_forward_pre_hook(
        lambda m, args: dtypes.append(args[0].dtype)
    )
    with autocast(device_type='cpu', dtype=torch.bfloat16):
        outs = model(torch.randn(2, 3, 64, 80))
        loss = sum(o.float().square().mean() for o in outs)
    loss.backward()
    assert dtypes == [torch.float32]  # irfft2's output: the FFT path ran in float32
    assert model.stages[2][0].token_mixer.pwconv1.weight.grad is not None
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert all(p.dtype == torch.float32 for p in model.parameters())


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_pure_low_precision_model_is_refused_clearly(dtype):
    model = DFFormer('s18', nominal_size=64).to(dtype)
    with pytest.raises(TypeError, match='autocast'):
        model(torch.randn(1, 3, 64, 64, dtype=dtype))


def test_deterministic_algorithms_train_and_repeat_exactly():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 48, 40)
    model = DFFormer('s18', nominal_size=64)
    grads = []
    previous = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True)
    try:
        for _ in range(2):
            model.zero_grad()
            sum(o.square().mean() for o in model(x)).backward()
            grads.append(model.stages[0][0].token_mixer.complex_weights.grad.clone())
    finally:
        torch.use_deterministic_algorithms(previous)
    assert torch.equal(grads[0], grads[1]) and grads[0].abs().sum() > 0


@pytest.mark.parametrize('size', [(8, 8), (7, 9), (5, 6)])
def test_fft_filter_operator_has_the_autograd_gradients(size):
    """The training operator mmtokenmix::fft_filter (its backward written out, so that
    torch.compile calls it as it is) gives the outputs and, in float64 to rounding, the
    gradients that autograd derives for the upstream computation, odd widths included;
    torch.library's operator checks pass."""
    from mmtokenmix.models.mixers.dynamic_filter import filter_spectrum

    torch.manual_seed(0)
    H, W = size
    y = torch.randn(2, H, W, 12, dtype=torch.float64, requires_grad=True)
    routing = torch.randn(2, 4, 12, dtype=torch.float64).softmax(1).requires_grad_()
    bases = torch.randn(H, W // 2 + 1, 4, 2, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(2, H, W, 12, dtype=torch.float64)
    want = filter_spectrum(y, routing, torch.view_as_complex(bases), False)
    want_grads = torch.autograd.grad((want * weight).sum(), (y, routing, bases))
    got = torch.ops.mmtokenmix.fft_filter(y, routing, bases)
    got_grads = torch.autograd.grad((got * weight).sum(), (y, routing, bases))
    torch.testing.assert_close(got, want, rtol=0, atol=1e-12)
    for g, w in zip(got_grads, want_grads):
        torch.testing.assert_close(g, w, rtol=0, atol=1e-12 * w.abs().max().item())
    torch.library.opcheck(torch.ops.mmtokenmix.fft_filter.default, (y, routing, bases))
