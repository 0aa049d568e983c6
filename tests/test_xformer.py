"""XFormer (a reconstruction, docs/xformer.md): parameter budget, layout, XFA's linear cost,
and the MobileViT-S weight route."""

import pytest
import torch
from official_layout import mobilevit_s_shapes, random_state_dict

from mmtokenmix.checkpoints import CheckpointMismatchError
from mmtokenmix.models import XFormer, XFormerClassifier
from mmtokenmix.models.mixers import Attention, CrossFeatureAttention


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_classifier_params_are_within_the_papers_budget():
    assert n_params(XFormerClassifier()) == 5_537_052  # +0.7 % over the paper's 5.5M


def test_mobilevit_s_arch_is_the_mobilevit_layout_plus_temperatures():
    model = XFormerClassifier('mobilevit_s')
    assert n_params(model) == 5_578_668  # MobileViT-S 5,578,632 + 9 layers x 4 temperatures
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    mobilevit = {k.replace('backbone.', ''): v for k, v in mobilevit_s_shapes().items()}
    temperatures = {k for k in ours if k.endswith('attn.temperature')}
    assert len(temperatures) == 9 and all(ours[k] == (4, 1, 1) for k in temperatures)
    assert {k: v for k, v in ours.items() if k not in temperatures} == mobilevit
    # the default differs only in the stride-8 FFN width (216 instead of 288)
    default = {k: tuple(v.shape) for k, v in XFormerClassifier().state_dict().items()}
    assert {k for k in default if default[k] != ours[k]} == {
        f'layers.2.1.global_rep.{j}.ffn.layers.{n}'
        for j in (0, 1)
        for n in ('0.0.weight', '0.0.bias', '1.weight')
    }


def test_dense_backbone_widths_and_params():
    model = XFormer()
    assert model.out_channels == [32, 64, 96, 128, 160]
    assert round(n_params(model) / 1e6, 2) == 4.79  # C5 = 160, no 640 expansion


def expected(h, w):
    sizes = []
    for _ in range(5):
        h, w = (h + 1) // 2, (w + 1) // 2
        sizes.append((h, w))
    return sizes


@pytest.mark.parametrize('variant', ['xca', 'xca_nosoftmax', 'separable'])
def test_xfa_variants_keep_shape_and_are_token_permutation_equivariant(variant):
    torch.manual_seed(0)
    attn = CrossFeatureAttention(16, num_heads=4, variant=variant).eval()
    x = torch.randn(2, 10, 16)
    perm = torch.randperm(10)
    torch.testing.assert_close(attn(x)[:, perm], attn(x[:, perm]), rtol=1e-5, atol=1e-6)
    assert torch.isfinite(attn(torch.randn(2, 1, 16))).all()  # one token: no NaN


def test_xca_normalises_features_over_tokens_with_a_temperature():
    """Option A by hand for one head: q_hat, k_hat are the (d, N) feature rows divided by their
    norms over the N tokens; softmax(tau q_hat k_hat^T) v."""
    torch.manual_seed(0)
    attn = CrossFeatureAttention(8, num_heads=1).eval()
    with torch.no_grad():
        attn.temperature.fill_(1.7)
    x = torch.randn(1, 6, 8)
    q, k, v = attn.qkv(x)[0].split(8, dim=-1)  # (N, d) each
    qh, kh = (q / q.norm(dim=0)).t(), (k / k.norm(dim=0)).t()  # (d, N)
    out = (torch.softmax(1.7 * qh @ kh.t(), dim=-1) @ v.t()).t()
    torch.testing.assert_close(attn(x)[0], attn.proj(out), rtol=1e-5, atol=1e-6)


def test_xfa_cost_grows_linearly_with_tokens_unlike_self_attention():
    from mmengine.analysis import FlopAnalyzer

    def flops(module, n):
        return FlopAnalyzer(module.eval(), (torch.randn(1, n, 8, 64),)).total()

    class Tokens(torch.nn.Module):  # (B, H, W, C) -> the (B, N, C) sequence XFA takes
        def __init__(self):
            super().__init__()
            self.xfa = CrossFeatureAttention(64, num_heads=4)

        def forward(self, x):
            return self.xfa(x.flatten(1, 2))

    xfa = Tokens()
    mhsa = Attention(64, head_dim=16)
    assert flops(xfa, 256) / flops(xfa, 64) == pytest.approx(4.0, rel=0.01)  # 4x tokens
    assert flops(mhsa, 256) / flops(mhsa, 64) > 8  # quadratic part dominates


@pytest.mark.parametrize('arch', ['mobilevit_s', 's'])
def test_mobilevit_weights_load_where_shapes_agree_with_a_report(tmp_path, arch):
    sd = random_state_dict(mobilevit_s_shapes(), seed=1)
    torch.save({'state_dict': sd, 'meta': {}}, tmp_path / 'mobilevit-small.pth')
    model = XFormer(
        arch,
        init_cfg=dict(
            type='Pretrained', prefix='backbone.', checkpoint=str(tmp_path / 'mobilevit-small.pth')
        ),
    )
    model.init_weights()
    report = model.pretrained_report
    own = model.state_dict()
    assert sorted(report['missing']) == sorted(k for k in own if k.endswith('temperature'))
    assert sorted(report['unexpected']) == sorted(
        k[len('backbone.') :] for k in sd if k.startswith('backbone.conv_1x1_exp')
    )
    # the default's narrower stride-8 FFNs cannot take MobileViT-S's tensors there
    assert len(report['mismatched']) == (0 if arch == 'mobilevit_s' else 6)
    assert len(report['loaded']) == len(own) - 9 - len(report['mismatched'])
    assert all(torch.equal(own[k], sd['backbone.' + k]) for k in report['loaded'])


def test_xformer_checkpoints_load_strictly(tmp_path):
    sd = XFormer().state_dict()
    del sd['layers.3.1.global_rep.0.attn.proj.weight']
    torch.save({'state_dict': sd}, tmp_path / 'xformer.pth')
    model = XFormer(init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'xformer.pth')))
    with pytest.raises(CheckpointMismatchError, match='attn.proj.weight'):
        model.init_weights()
    torch.save({'x': torch.zeros(1)}, tmp_path / 'other.pth')
    model = XFormer(init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'other.pth')))
    with pytest.raises(CheckpointMismatchError, match='no tensor matches'):
        model.init_weights()


@pytest.mark.parametrize(
    'kwargs,match',
    [
        (dict(arch=dict(XFormer.named_arch('s'), kinds=['mv2'] * 4 + ['vit'])), "'mv2' or"),
        (dict(arch=dict(XFormer.named_arch('s'), ffn_dims=[None] * 5)), 'positive int'),
        (dict(attn_cfg=dict(variant='mhsa')), 'unknown XFA variant'),
        (dict(attn_cfg=dict(num_heads=5)), 'not divisible'),
    ],
)
def test_bad_arguments_raise_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        XFormer(**kwargs)


def test_timm_name_classifies():
    timm = pytest.importorskip('timm')
    clf = timm.create_model('xformer', num_classes=10).eval()
    assert clf(torch.randn(1, 3, 96, 80)).shape == (1, 10)
    assert clf.pretrained_cfg['input_size'] == (3, 256, 256)
