"""Inference fast paths (cached resized position encodings / filter bases, TransXNet's fused
attention) give the plain path's numbers and are invalidated by any weight change; the
training fast paths (fused LayerNorm, StarReLU and the FFT filter with written-out backwards,
TransXNet's encodings resized once per stage) give the plain path's outputs, gradients and
BatchNorm statistics."""

import copy

import pytest
import torch

from mmtokenmix.models import (
    CDFFormer,
    DFFormer,
    DMFormer,
    TransXNet,
    fast_paths,
    fast_paths_enabled,
)
from mmtokenmix.models.layers import chunked_attention
from mmtokenmix.models.mixers import d_mixer, dynamic_filter

SIZES = [(64, 64), (70, 94), (96, 64)]


def trained_looking(model, seed=0):
    """Random weights of a trained scale: every branch and the position encodings matter."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if 'relative_pos_enc' in name:
                p.normal_(0, 0.5)
            elif 'layer_scale' in name and name.endswith('weight'):
                p.uniform_(0.5, 1.0)
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.normal_(0, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return model


def transxnet():
    return trained_looking(TransXNet('t'))


def dfformer():  # bases stored for 64x64: other sizes resize them
    return trained_looking(
        DFFormer(
            dict(depths=[1, 1, 2, 1], dims=[16, 32, 48, 64], mixers=['dynamic_filter'] * 4),
            nominal_size=64,
        )
    )


def cdfformer():
    return trained_looking(
        CDFFormer(
            dict(
                depths=[1, 1, 2, 1],
                dims=[16, 32, 48, 64],
                mixers=['sepconv'] * 2 + ['dynamic_filter'] * 2,
            ),
            nominal_size=64,
        )
    )


def dmformer():  # no caches; its 1x1 convs and MetaFormer blocks have fast paths
    return trained_looking(DMFormer('s'))


CACHED = {'transxnet': transxnet, 'dfformer': dfformer, 'cdfformer': cdfformer}
BUILDERS = dict(CACHED, dmformer=dmformer)


def infer(model, x, fast):
    with torch.no_grad(), fast_paths(fast):
        return model(x)


def assert_outputs_close(actual, expected, msg=None):
    assert len(actual) == len(expected)
    for a, e in zip(actual, expected):
        torch.testing.assert_close(a, e, rtol=1e-5, atol=1e-5 * e.abs().max().item(), msg=msg)


@pytest.mark.parametrize('family', sorted(BUILDERS))
def test_fast_inference_equals_the_plain_path_at_several_sizes(family):
    model = BUILDERS[family]().eval()
    for h, w in SIZES:
        x = torch.randn(2, 3, h, w)
        plain = infer(model, x, False)
        assert_outputs_close(infer(model, x, True), plain)  # fills the caches
        assert_outputs_close(infer(model, x, True), plain)  # reuses them
        with torch.inference_mode():  # (what mmdet's inferencers use)
            assert_outputs_close(model(x), plain)


def count_calls(monkeypatch, module, name):
    calls = []
    original = getattr(module, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counted)
    return calls


def test_transxnet_resizes_its_encodings_once_per_size_in_inference(monkeypatch):
    import mmtokenmix.models.backbones.transxnet as transxnet_module

    model = transxnet().eval()
    per_stage = count_calls(monkeypatch, transxnet_module, 'resize_relative_pos_enc')
    x = torch.randn(1, 3, 70, 94)
    infer(model, x, True)
    assert len(per_stage) == 4  # one resize per stage
    infer(model, x, True)
    assert len(per_stage) == 4  # all four reused
    infer(model, torch.randn(1, 3, 64, 64), True)
    assert len(per_stage) == 8  # a new size is resized again
    per_block = count_calls(monkeypatch, d_mixer, 'resize_relative_pos_enc')
    infer(model, x, False)
    assert len(per_stage) == 8 and len(per_block) == 18  # plain path: in every block, as upstream


def test_dfformer_resizes_its_bases_once_per_size_in_inference(monkeypatch):
    model = dfformer().eval()
    calls = count_calls(monkeypatch, dynamic_filter, 'resize_complex_weight')
    x = torch.randn(1, 3, 70, 94)
    infer(model, x, True)
    assert len(calls) == 5  # every block
    infer(model, x, True)
    assert len(calls) == 5
    infer(model, x, False)
    assert len(calls) == 10  # the plain path resizes on every forward, as upstream


def change_weights_in_every_way(model, x):
    """Yields after each kind of weight change the backbones' caches must notice."""
    params = [
        p for n, p in model.named_parameters() if 'relative_pos_enc' in n or 'complex_weights' in n
    ]
    assert params
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model.train()
    sum(o.square().sum() for o in model(x)).backward()
    optimizer.step()
    model.eval()
    yield 'optimizer step'
    other = trained_looking(copy.deepcopy(model), seed=7)
    model.load_state_dict(other.state_dict())
    yield 'load_state_dict'
    params[0].data.mul_(-1.0)  # an edit that bypasses autograd's version counter
    yield 'edit through .data'


@pytest.mark.parametrize('family', sorted(CACHED))
def test_caches_are_invalidated_by_every_weight_change(family):
    model = BUILDERS[family]().eval()
    x = torch.randn(2, 3, 70, 94)
    infer(model, x, True)
    for change in change_weights_in_every_way(model, x):
        plain = infer(model, x, False)
        assert_outputs_close(infer(model, x, True), plain, msg=f'after {change}')


@pytest.mark.parametrize('family', sorted(BUILDERS))
def test_training_fast_paths_give_the_plain_outputs_gradients_and_statistics(family, monkeypatch):
    """Per input size: one training step of copies of the model, fast and plain (and plain in
    float64 as the reference): outputs within 1e-4 and every parameter's gradient within 1e-3
    of its own largest entry, the same BatchNorm running statistics; the inference caches are
    dropped in training.

    Gradients are compared with the float64 reference: ``|fast - ref| <= 1e-3 * max|ref| +
    10 * max|plain - ref|``. The second term matters only for parameters whose exact gradient
    is zero (a BatchNorm bias followed by a 1x1 conv and another BatchNorm, as in TransXNet's
    token enhancer): there both float32 paths give rounding noise of ~1e-9, and "relative to
    its largest entry" compares noise with noise.

    TransXNet's attention is blocked at these small sizes only with small blocks: they are
    made small here, so that every stage takes the chunked attention (counted), in several
    blocks of queries."""
    monkeypatch.setattr(chunked_attention, 'BLOCK_ELEMENTS', 64)
    chunked_calls = count_calls(monkeypatch, d_mixer, 'chunked_attention')
    model = BUILDERS[family]()
    infer(model.eval(), torch.randn(2, 3, 64, 64), True)  # leaves a filled cache behind
    for size in SIZES:
        x = torch.randn(2, 3, *size)
        outs, grads, buffers = {}, {}, {}
        for fast, dtype in (
            (True, torch.float32),
            (False, torch.float32),
            ('reference', torch.float64),
        ):
            copy_ = copy.deepcopy(model).to(dtype).train()
            with fast_paths(fast is True):
                outs[fast] = copy_(x.to(dtype))
            sum(
                (o * torch.linspace(-1, 1, o.numel(), dtype=dtype).view_as(o)).mean()
                for o in outs[fast]
            ).backward()
            grads[fast] = {n: p.grad for n, p in copy_.named_parameters() if p.grad is not None}
            buffers[fast] = dict(copy_.named_buffers())
            if fast is True:
                assert len(chunked_calls) == (18 if family == 'transxnet' else 0)
                chunked_calls.clear()
                caches = list(getattr(copy_, '_rpe_caches', [])) + [
                    m._bases_cache for m in copy_.modules() if hasattr(m, '_bases_cache')
                ]
                assert all(c._entry is None for c in caches)  # training dropped them
                assert bool(caches) == (family in CACHED)
        for a, e in zip(outs[True], outs[False]):
            torch.testing.assert_close(a, e, rtol=0, atol=1e-4 * e.abs().max().item())
        assert grads[True].keys() == grads[False].keys() and grads[True]
        for name, reference in grads['reference'].items():
            plain_error = (grads[False][name].double() - reference).abs().max().item()
            torch.testing.assert_close(
                grads[True][name].double(),
                reference,
                rtol=0,
                atol=1e-3 * reference.abs().max().item() + 10 * plain_error,
                msg=name,
            )
        for name, expected in buffers[False].items():
            torch.testing.assert_close(
                buffers[True][name], expected, rtol=1e-5, atol=1e-6, msg=name
            )


def test_eval_with_gradients_takes_the_plain_path():
    """Gradients with respect to the input or the encodings still flow in eval mode."""
    model = transxnet().eval()
    x = torch.randn(1, 3, 64, 64, requires_grad=True)
    # (a plain sum of a GroupNorm output would have zero gradient)
    sum((o * torch.randn_like(o)).sum() for o in model(x)).backward()
    assert x.grad.abs().sum() > 0
    assert all(rpe.grad.abs().sum() > 0 for rpe in model.relative_pos_enc)


def test_a_deep_copy_starts_with_empty_caches_and_equal_outputs():
    model = dfformer().eval()
    x = torch.randn(1, 3, 70, 94)
    expected = infer(model, x, True)
    clone = copy.deepcopy(model)
    assert all(m._bases_cache._entry is None for m in clone.modules() if hasattr(m, '_bases_cache'))
    assert_outputs_close(infer(clone, x, True), expected)


def test_the_switch_is_restored_after_an_error():
    assert fast_paths_enabled()
    with pytest.raises(RuntimeError):
        with fast_paths(False):
            assert not fast_paths_enabled()
            raise RuntimeError('boom')
    assert fast_paths_enabled()


@pytest.mark.parametrize('bias', [True, False])
def test_pointwise_conv_is_a_1x1_conv(bias):
    from mmtokenmix.models.layers.pointwise import PointwiseConv2d

    conv = PointwiseConv2d(6, 10, bias=bias)
    assert isinstance(conv, torch.nn.Conv2d) and conv.kernel_size == (1, 1)
    x = torch.randn(3, 6, 5, 7)
    expected = torch.nn.functional.conv2d(x, conv.weight, conv.bias)
    for fast in (True, False):
        with torch.no_grad(), fast_paths(fast):
            torch.testing.assert_close(conv.eval()(x), expected)
    conv.train()(x).sum().backward()  # training: the ordinary conv, with gradients
    assert conv.weight.grad is not None


@pytest.mark.parametrize('kernel_size, dilation, bias', [(7, 1, True), (5, 2, False), (3, 1, True)])
def test_depthwise_conv_backward_is_autograds(kernel_size, dilation, bias):
    """The written-out backward (flipped-kernel input gradient, channels-last weight
    gradient) equals autograd's in float64, odd map sizes included; under bf16 autocast it
    runs and gives gradients of the parameters' dtype."""
    from mmtokenmix.models.layers import depthwise_conv2d

    padding = dilation * (kernel_size - 1) // 2
    x = torch.randn(2, 5, 9, 11, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(5, 1, kernel_size, kernel_size, dtype=torch.float64, requires_grad=True)
    b = torch.randn(5, dtype=torch.float64, requires_grad=True) if bias else None
    inputs = (x, weight) + ((b,) if bias else ())

    def conv(x, weight, b=None):
        return depthwise_conv2d(x, weight, b, padding, dilation)

    assert torch.autograd.gradcheck(conv, inputs)
    expected = torch.nn.functional.conv2d(
        x, weight, b, padding=padding, dilation=dilation, groups=5
    )
    torch.testing.assert_close(conv(*inputs), expected)
    x32, w32 = x.detach().float().requires_grad_(), weight.detach().float().requires_grad_()
    with torch.autocast('cpu', torch.bfloat16):
        out = depthwise_conv2d(x32, w32, None, padding, dilation)
    out.float().square().sum().backward()
    assert out.dtype == torch.bfloat16 and x32.grad.dtype == w32.grad.dtype == torch.float32


def test_depthwise_conv_module_takes_the_fast_backward_only_where_it_pays(monkeypatch):
    from mmtokenmix.models.layers import DepthwiseConv2d, depthwise

    calls = count_calls(monkeypatch, depthwise, 'depthwise_conv2d')
    x = torch.randn(2, 4, 8, 8, requires_grad=True)
    for kernel_size, stride, padding, dilation, takes_it in [
        (7, 1, 3, 1, True),
        (5, 1, 4, 2, True),
        (3, 1, 1, 1, False),
        (7, 2, 3, 1, False),
        (7, 1, 1, 1, False),
    ]:
        conv = DepthwiseConv2d(4, kernel_size, stride, padding, dilation).train()
        assert isinstance(conv, torch.nn.Conv2d) and conv.groups == 4
        expected = torch.nn.functional.conv2d(
            x, conv.weight, conv.bias, stride, padding, dilation, groups=4
        )
        for fast in (True, False):
            calls.clear()
            with fast_paths(fast):
                torch.testing.assert_close(conv(x), expected)
                with torch.no_grad():  # nothing to differentiate: the ordinary conv
                    conv(x)
            assert len(calls) == (takes_it and fast)


@pytest.mark.parametrize('bias_heads', [None, 1, 3])
def test_chunked_attention_is_attention_with_its_gradients(monkeypatch, bias_heads):
    """Outputs and gradients (queries, keys, values and the bias) equal the plain attention's
    in float64, with a block size that does not divide the number of queries."""
    monkeypatch.setattr(chunked_attention, 'BLOCK_ELEMENTS', 50)
    torch.manual_seed(0)
    q = torch.randn(2, 3, 37, 4, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, 3, 4, 9, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, 3, 9, 5, dtype=torch.float64, requires_grad=True)
    bias = (
        None
        if bias_heads is None
        else torch.randn(1, bias_heads, 37, 9, dtype=torch.float64, requires_grad=True)
    )
    inputs = (q, k, v) + (() if bias is None else (bias,))

    def attention(q, k, v, bias=None):
        return chunked_attention.chunked_attention(q, k, v, bias, 0.3)

    logits = q @ k * 0.3 + (0 if bias is None else bias)
    expected, actual = logits.softmax(-1) @ v, attention(*inputs)
    torch.testing.assert_close(actual, expected)
    grad = torch.randn_like(expected)
    for a, e in zip(
        torch.autograd.grad(actual, inputs, grad), torch.autograd.grad(expected, inputs, grad)
    ):
        torch.testing.assert_close(a, e)
    with pytest.raises(ValueError, match='does not fit'):
        chunked_attention.chunked_attention(q, k, v, torch.zeros(1, 3, 36, 9), 0.3)


@pytest.mark.parametrize('align_corners', [False, True])
@pytest.mark.parametrize('size', [(40, 23), (7, 5), (17, 9)])
def test_separable_bicubic_resize_is_interpolate(align_corners, size):
    """Equal to ``F.interpolate(mode='bicubic')`` (up, down, unchanged), gradient included;
    in float32 within rounding of it."""
    from mmtokenmix.models.layers.interpolation import bicubic_resize_separable

    x = torch.randn(1, 3, 17, 9, dtype=torch.float64, requires_grad=True)
    expected = torch.nn.functional.interpolate(
        x, size=size, mode='bicubic', align_corners=align_corners
    )
    actual = bicubic_resize_separable(x, size, align_corners)
    torch.testing.assert_close(actual, expected)
    grad = torch.randn_like(expected)
    torch.testing.assert_close(
        torch.autograd.grad(actual, x, grad)[0], torch.autograd.grad(expected, x, grad)[0]
    )
    x32 = x.detach().float()
    torch.testing.assert_close(
        bicubic_resize_separable(x32, size, align_corners),
        torch.nn.functional.interpolate(
            x32, size=size, mode='bicubic', align_corners=align_corners
        ),
        rtol=1e-5,
        atol=1e-5,
    )


@pytest.mark.parametrize('bias', [True, False])
def test_star_relu_functions_have_autograds_gradients(bias, monkeypatch):
    """StarReLU and StarReLU + linear layer with written-out backwards: gradients of the
    input, the activation's scalars and the layer equal autograd's in float64; the MLP takes
    the fused function in training only where it applies."""
    from mmtokenmix.models.layers import MetaFormerMlp, metaformer

    torch.manual_seed(0)
    x = torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True)
    scale = torch.tensor([0.8], dtype=torch.float64, requires_grad=True)
    shift = torch.tensor([-0.3], dtype=torch.float64, requires_grad=True)
    weight = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    b = torch.randn(6, dtype=torch.float64, requires_grad=True) if bias else None
    assert torch.autograd.gradcheck(metaformer._StarReLUFunction.apply, (x, scale, shift))
    assert torch.autograd.gradcheck(
        metaformer._StarReLULinearFunction.apply, (x, scale, shift, weight, b)
    )

    mlp = MetaFormerMlp(5, 2.0, bias=bias).double().train()
    calls = count_calls(monkeypatch, metaformer._StarReLULinearFunction, 'apply')
    results = {}
    for fast in (True, False):
        mlp.zero_grad()
        with fast_paths(fast):
            out = mlp(x)
        out.square().sum().backward()
        results[fast] = [out] + [p.grad.clone() for p in mlp.parameters()]
    assert len(calls) == 1  # the fast forward only
    for a, e in zip(results[True], results[False]):
        torch.testing.assert_close(a, e)
    with torch.no_grad():
        mlp(x)
    assert len(calls) == 1
