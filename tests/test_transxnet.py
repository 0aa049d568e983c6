import pytest
import torch
import torch.nn as nn
from official_layout import official_shapes

from mmtokenmix.models import TransXNet, TransXNetClassifier
from mmtokenmix.models.layers import stochastic_depth_rates
from mmtokenmix.models.mixers import OSRA, IDConv


def n_params(model):
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize('arch,expected', [('t', 12_834_808), ('s', 26_864_068), ('b', 48_009_002)])
def test_classification_param_counts_equal_official(arch, expected):
    assert n_params(TransXNetClassifier(arch)) == expected


@pytest.mark.parametrize('arch', ['t', 's', 'b'])
def test_state_dict_layout_is_the_official_one(arch):
    model = TransXNetClassifier(arch)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert ours == dict(official_shapes(arch))


def test_official_key_counts():
    # key counts of the official checkpoints (num_batches_tracked included)
    assert len(official_shapes('t')) == 1508
    assert len(official_shapes('s')) == 2000
    assert len(official_shapes('b')) == 2756
    dense = TransXNet('t', out_indices=(0, 1, 2, 3)).state_dict()
    assert len(dense) == 1512
    assert len(TransXNet('t', out_indices=(1, 2, 3)).state_dict()) == 1510


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (
            dict(
                arch=dict(
                    depths=[1] * 4,
                    dims=[8, 16, 32, 66],
                    num_groups=[2] * 4,
                    sr_ratios=[8, 4, 2, 1],
                    num_heads=[1, 1, 1, 2],
                )
            ),
            'divisible by num_heads',
        ),
        (
            dict(
                arch=dict(
                    depths=[1] * 4,
                    dims=[8, 16, 32, 64],
                    num_groups=[2, 2, 1, 2],
                    sr_ratios=[8, 4, 2, 1],
                    num_heads=[1, 1, 1, 2],
                )
            ),
            'num_groups must be',
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TransXNet(**kwargs)


def test_custom_arch_dict_and_aliases():
    arch = dict(
        depths=[1, 1, 2, 1],
        dims=[16, 32, 64, 128],
        num_groups=[2, 2, 3, 2],
        sr_ratios=[8, 4, 2, 1],
        num_heads=[1, 2, 2, 4],
    )
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


def test_default_init_follows_upstream():
    model = TransXNet('t')
    model.init_weights()
    assert torch.all(model.relative_pos_enc[2] == 0)
    blk = model.network[0][0]
    assert torch.all(blk.layer_scale_1.weight == 1e-5) and torch.all(blk.layer_scale_1.bias == 0)
    assert torch.all(model.norm0.weight == 1)
    assert model.patch_embed.proj.conv.weight.std().item() == pytest.approx(0.02, rel=0.2)
    assert torch.all(blk.token_mixer.global_unit.q.bias == 0)
