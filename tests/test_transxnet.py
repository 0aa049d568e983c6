import pytest
import torch
import torch.nn as nn
from official_layout import official_shapes

from mmtokenmix.models import TransXNet, TransXNetClassifier
from mmtokenmix.models.layers import stochastic_depth_rates
from mmtokenmix.models.mixers import IDConv, OSRA


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize('arch,expected', [('t', 12_834_808), ('s', 26_864_068),
                                           ('b', 48_009_002)])
def test_classification_param_counts_equal_official(arch, expected):
    assert n_params(TransXNetClassifier(arch)) == expected


@pytest.mark.parametrize('arch', ['t', 's', 'b'])
def test_state_dict_layout_is_the_official_one(arch):
    model = TransXNetClassifier(arch)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert ours == dict(official_shapes(arch))


def test_official_key_counts():
    # the spec's key counts (num_batches_tracked included)
    assert len(official_shapes('t')) == 1508
    assert len(official_shapes('s')) == 2000
    assert len(official_shapes('b')) == 2756
    dense = TransXNet('t', out_indices=(0, 1, 2, 3)).state_dict()
    assert len(dense) == 1512
    assert len(TransXNet('t', out_indices=(1, 2, 3)).state_dict()) == 1510


@pytest.mark.parametrize('size', [(97, 131), (33, 33), (224, 160), (1, 1)])
def test_output_shapes_at_odd_sizes(size):
    model = TransXNet('t').eval()
    h, w = size
    with torch.no_grad():
        outs = model(torch.randn(2, 3, h, w))
    ceil = lambda a, b: -(-a // b)  # noqa: E731
    h, w = ceil(h, 4), ceil(w, 4)  # 7x7/4 stem, then 3x3/2 downsampling
    expected_hw = [(h, w)]
    for _ in range(3):
        h, w = ceil(h, 2), ceil(w, 2)
        expected_hw.append((h, w))
    assert [tuple(o.shape) for o in outs] == [
        (2, c, *hw) for c, hw in zip([48, 96, 224, 448], expected_hw)]


def test_out_indices_select_stages_and_norms():
    model = TransXNet('t', out_indices=(1, 3)).eval()
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [96, 448]
    assert hasattr(model, 'norm2') and hasattr(model, 'norm6')
    assert not hasattr(model, 'norm0') and not hasattr(model, 'norm4')
    assert TransXNet('t', out_indices=(-1,)).out_indices == (3,)


@pytest.mark.parametrize('kwargs,match', [
    (dict(arch='huge'), 'unknown TransXNet arch'),
    (dict(arch=dict(depths=[1, 1, 1, 1])), 'lacks'),
    (dict(arch=dict(depths=[1, 1, 1], dims=[8, 16, 32], num_groups=[2] * 3,
                    sr_ratios=[8, 4, 2], num_heads=[1] * 3)), 'needs 4 values'),
    (dict(arch=dict(depths=[1] * 4, dims=[8, 16, 32, 66], num_groups=[2] * 4,
                    sr_ratios=[8, 4, 2, 1], num_heads=[1, 1, 1, 2])), 'divisible by num_heads'),
    (dict(out_indices=(4,)), 'out_indices'),
    (dict(out_indices=(2, 1)), 'increasing'),
    (dict(frozen_stages=5), 'frozen_stages'),
    (dict(with_cp=[True, False]), 'with_cp'),
])
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TransXNet(**kwargs)


def test_custom_arch_dict_and_aliases():
    arch = dict(depths=[1, 1, 2, 1], dims=[16, 32, 64, 128], num_groups=[2, 2, 3, 2],
                sr_ratios=[8, 4, 2, 1], num_heads=[1, 2, 2, 4])
    model = TransXNet(arch)
    outs = model(torch.randn(2, 3, 64, 48))
    assert [o.shape[1] for o in outs] == [16, 32, 64, 128]
    assert len(model.network[4]) == 2
    assert TransXNet('Tiny').arch == TransXNet('t').arch


def test_batch_of_one_cannot_train_but_can_infer():
    model = TransXNet('t')
    with pytest.raises(ValueError, match='batch of 1'):
        model(torch.randn(1, 3, 64, 64))
    assert len(model.eval()(torch.randn(1, 3, 64, 64))) == 4
    assert len(TransXNet('t', norm_eval=True).train()(torch.randn(1, 3, 64, 64))) == 4


def test_wrong_input_channels_raise():
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\)'):
        TransXNet('t')(torch.randn(1, 4, 32, 32))
    with pytest.raises(ValueError, match=r'\(N, 3, H, W\)'):
        TransXNet('t')(torch.randn(3, 32, 32))


def test_drop_path_schedule_is_linear_over_all_blocks():
    rates = stochastic_depth_rates([3, 3, 9, 3], 0.1)
    flat = [r for stage in rates for r in stage]
    assert flat[0] == 0 and flat[-1] == pytest.approx(0.1)
    assert flat[5] == pytest.approx(0.1 * 5 / 17)
    model = TransXNet('t', drop_path_rate=0.1)
    assert model.network[6][2].drop_path.drop_prob == pytest.approx(0.1)
    assert isinstance(model.network[0][0].drop_path, nn.Identity)


def test_relative_position_encoding_is_resized_and_used():
    model = TransXNet('t', out_indices=(0,)).eval()
    for block in model.network[0]:  # make the mixer branch visible in the output
        block.layer_scale_1.weight.data.fill_(1.0)
    x = torch.randn(1, 3, 96, 64)
    with torch.no_grad():
        ref = model(x)[0]
        model.relative_pos_enc[0].normal_()
        changed = model(x)[0]
    assert not torch.allclose(ref, changed)
    # the stored size is the 224 one; at 96x64 the stage-1 attention is (24*16) x (3*2)
    assert model.relative_pos_enc[0].shape == (1, 1, 56 * 56, 49)


def test_idconv_kernels_are_mixed_group_major_with_softmax():
    torch.manual_seed(0)
    conv = IDConv(4, kernel_size=3, num_groups=2).eval()
    x = torch.randn(2, 4, 5, 6)
    out = conv(x)
    # recompute sample 1 channel 3 by hand: softmax over G of generator output g*C + c
    s = conv.proj(conv.pool(x))[1].reshape(2, 4, 3, 3).softmax(0)
    kernel = (s * conv.weight).sum(0)[3]
    b = conv.proj(x.mean((2, 3), keepdim=True))[1].reshape(2, 4).softmax(0)
    bias = (b * conv.bias).sum(0)[3]
    manual = torch.nn.functional.conv2d(x[1:2, 3:4], kernel[None, None], bias[None], padding=1)
    torch.testing.assert_close(out[1, 3], manual[0, 0])


def test_osra_reduces_keys_with_ceil_sizes():
    attn = OSRA(8, num_heads=2, sr_ratio=4)
    assert attn.kv_size(97, 131) == (25, 33)
    assert attn.sr(torch.randn(1, 8, 97, 131)).shape[2:] == (25, 33)


def _trainable(model):
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_frozen_stages_freeze_params_and_bn_stats():
    model = TransXNet('t', frozen_stages=2)
    model.train()
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    assert any(n.startswith('patch_embed.') for n in frozen)
    for prefix in ('network.0.', 'network.1.', 'network.2.', 'relative_pos_enc.0',
                   'relative_pos_enc.1', 'norm0.', 'norm2.'):
        assert any(n.startswith(prefix) for n in frozen), prefix
    assert all(not n.startswith(('network.3.', 'network.4.', 'network.6.', 'norm4.'))
               for n in frozen)
    assert not model.patch_embed.training and not model.network[2].training
    assert model.network[4].training
    bn = model.network[2][0].mlp.norm
    before = bn.running_mean.clone()
    out = model(torch.randn(2, 3, 64, 64))
    sum(o.sum() for o in out).backward()
    torch.testing.assert_close(bn.running_mean, before)
    assert model.network[0][0].pos_embed.weight.grad is None
    assert model.network[4][0].pos_embed.weight.grad is not None
    # frozen_stages=0 freezes only the stem
    assert _trainable(TransXNet('t')) - _trainable(TransXNet('t', frozen_stages=0)) == {
        n for n, _ in TransXNet('t').named_parameters() if n.startswith('patch_embed.')}


def test_norm_eval_keeps_bn_running_stats():
    model = TransXNet('t', norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and all(not m.training for m in bns)
    before = [m.running_mean.clone() for m in bns]
    model(torch.randn(2, 3, 64, 64))
    for m, b in zip(bns, before):
        torch.testing.assert_close(m.running_mean, b)
    # without norm_eval the statistics move
    plain = TransXNet('t').train()
    ref = plain.patch_embed.proj.bn.running_mean.clone()
    plain(torch.randn(2, 3, 64, 64))
    assert not torch.allclose(plain.patch_embed.proj.bn.running_mean, ref)


def test_with_cp_gives_the_same_outputs_and_gradients():
    torch.manual_seed(0)
    model = TransXNet('t', drop_path_rate=0.1)
    model_cp = TransXNet('t', drop_path_rate=0.1, with_cp=True)
    model_cp.load_state_dict(model.state_dict())
    x = torch.randn(2, 3, 64, 80)
    grads = []
    for m in (model, model_cp):
        m.train()
        torch.manual_seed(1)
        outs = m(x)
        sum((o * (i + 1)).mean() for i, o in enumerate(outs)).backward()
        grads.append({n: p.grad.clone() for n, p in m.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[0]:
        torch.testing.assert_close(grads[0][name], grads[1][name], rtol=1e-4, atol=1e-6,
                                   msg=name)


def test_default_init_follows_upstream():
    model = TransXNet('t')
    model.init_weights()
    assert torch.all(model.relative_pos_enc[2] == 0)
    blk = model.network[0][0]
    assert torch.all(blk.layer_scale_1.weight == 1e-5) and torch.all(blk.layer_scale_1.bias == 0)
    assert torch.all(model.norm0.weight == 1)
    assert model.patch_embed.proj.conv.weight.std().item() == pytest.approx(0.02, rel=0.2)
    assert torch.all(blk.token_mixer.global_unit.q.bias == 0)
