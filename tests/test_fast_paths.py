"""Inference fast paths (cached resized position encodings / filter bases, TransXNet's fused
attention) give the plain path's numbers and are invalidated by any weight change; the
training fast paths (fused LayerNorm, StarReLU and the FFT filter with written-out backwards,
TransXNet's encodings resized once per stage) give the plain path's outputs, gradients and
BatchNorm statistics."""
import copy

import pytest
import torch

from mmtokenmix.models import (CDFFormer, DFFormer, DMFormer, TransXNet, fast_paths,
                               fast_paths_enabled)
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
    return trained_looking(DFFormer(dict(depths=[1, 1, 2, 1], dims=[16, 32, 48, 64],
                                         mixers=['dynamic_filter'] * 4), nominal_size=64))


def cdfformer():
    return trained_looking(CDFFormer(dict(depths=[1, 1, 2, 1], dims=[16, 32, 48, 64],
                                          mixers=['sepconv'] * 2 + ['dynamic_filter'] * 2),
                                     nominal_size=64))


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
    params = [p for n, p in model.named_parameters()
              if 'relative_pos_enc' in n or 'complex_weights' in n]
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
def test_training_fast_paths_give_the_plain_outputs_gradients_and_statistics(family):
    """Per input size: one training step of two copies of the model, fast and plain: outputs
    within 1e-4 and every parameter's gradient within 1e-3 of its own largest entry, the same
    BatchNorm running statistics; the inference caches are dropped in training."""
    model = BUILDERS[family]()
    infer(model.eval(), torch.randn(2, 3, 64, 64), True)  # leaves a filled cache behind
    for size in SIZES:
        x = torch.randn(2, 3, *size)
        outs, grads, buffers = {}, {}, {}
        for fast in (True, False):
            copy_ = copy.deepcopy(model).train()
            with fast_paths(fast):
                outs[fast] = copy_(x)
            sum((o * torch.linspace(-1, 1, o.numel()).view_as(o)).mean()
                for o in outs[fast]).backward()
            grads[fast] = {n: p.grad for n, p in copy_.named_parameters() if p.grad is not None}
            buffers[fast] = dict(copy_.named_buffers())
            if fast:
                caches = list(getattr(copy_, '_rpe_caches', [])) + [
                    m._bases_cache for m in copy_.modules() if hasattr(m, '_bases_cache')]
                assert all(c._entry is None for c in caches)  # training dropped them
                assert bool(caches) == (family in CACHED)
        for a, e in zip(outs[True], outs[False]):
            torch.testing.assert_close(a, e, rtol=0, atol=1e-4 * e.abs().max().item())
        assert grads[True].keys() == grads[False].keys() and grads[True]
        for name, expected in grads[False].items():
            torch.testing.assert_close(grads[True][name], expected, rtol=0,
                                       atol=1e-3 * expected.abs().max().item(), msg=name)
        for name, expected in buffers[False].items():
            torch.testing.assert_close(buffers[True][name], expected, rtol=1e-5, atol=1e-6,
                                       msg=name)


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
    assert all(m._bases_cache._entry is None for m in clone.modules()
               if hasattr(m, '_bases_cache'))
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

