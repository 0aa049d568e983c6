import pytest
import torch
from official_layout import official_shapes, random_state_dict

import mmtokenmix.models  # noqa: F401  (registers the timm names)

timm = pytest.importorskip('timm')


@pytest.mark.parametrize('name,params', [('transxnet_t', 12_834_808), ('transxnet_s', 26_864_068)])
def test_create_model_builds_the_classifier(name, params):
    model = timm.create_model(name)
    assert sum(p.numel() for p in model.parameters()) == params
    assert model.pretrained_cfg['crop_pct'] == 0.9
    out = model.eval()(torch.randn(2, 3, 224, 224))
    assert out.shape == (2, 1000)


def test_create_model_loads_an_official_timm_checkpoint(tmp_path):
    sd = random_state_dict(official_shapes('t'), seed=3)
    path = tmp_path / 'transx-t.pth.tar'
    torch.save({'epoch': 299, 'arch': 'transxnet_t', 'state_dict': sd}, path)
    model = timm.create_model('transxnet_t', checkpoint_path=str(path))
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, sd[k], msg=k)


def test_num_classes_and_features():
    model = timm.create_model('transxnet_t', num_classes=10, drop_path_rate=0.1).eval()
    assert model(torch.randn(1, 3, 96, 96)).shape == (1, 10)
    model.reset_classifier(0)
    assert model(torch.randn(1, 3, 96, 96)).shape == (1, 448)
    assert model.forward_features(torch.randn(1, 3, 64, 64)).shape == (1, 448, 2, 2)


@pytest.fixture
def hub_dir(tmp_path):
    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    yield tmp_path / 'hub' / 'checkpoints'
    torch.hub.set_dir(old)


def test_pretrained_true_loads_local_files_weights_only(tmp_path, hub_dir):
    """timm's documented local-file route, and the release file already in torch hub's cache,
    load through the safe reader; with neither, the error names the file and the command."""
    from payloads import torchscript_payload

    from mmtokenmix.checkpoints import CheckpointFileError
    from mmtokenmix.checkpoints.official import OFFICIAL_CHECKPOINTS

    sd = random_state_dict(official_shapes('t'), seed=5)
    path = tmp_path / 'local.pth'
    torch.save({'state_dict': sd}, path)
    model = timm.create_model(
        'transxnet_t', pretrained=True, pretrained_cfg_overlay=dict(file=str(path))
    )
    assert all(torch.equal(v, sd[k]) for k, v in model.state_dict().items())
    # timm still adapts the weights: a new head, one input channel (stem summed over RGB)
    gray = timm.create_model(
        'transxnet_t',
        pretrained=True,
        num_classes=5,
        in_chans=1,
        pretrained_cfg_overlay=dict(file=str(path)),
    )
    stem = 'patch_embed.proj.conv.weight'
    torch.testing.assert_close(gray.state_dict()[stem], sd[stem].sum(1, keepdim=True))
    assert gray.eval()(torch.randn(1, 1, 64, 64)).shape == (1, 5)
    feats = timm.create_model(
        'transxnet_t',
        pretrained=True,
        features_only=True,
        pretrained_cfg_overlay=dict(file=str(path)),
    )
    assert torch.equal(feats.state_dict()['model.' + stem], sd[stem])

    url = OFFICIAL_CHECKPOINTS['transxnet_t_in1k'].url
    with pytest.raises(RuntimeError, match='download_weights.py transxnet_t_in1k --out-dir'):
        timm.create_model('transxnet_t', pretrained=True)
    hub_dir.mkdir(parents=True)
    torch.save(sd, hub_dir / url.rsplit('/', 1)[1])  # where timm's own download puts it
    model = timm.create_model('transxnet_t', pretrained=True)
    assert all(torch.equal(v, sd[k]) for k, v in model.state_dict().items())

    marker = tmp_path / 'marker'
    torchscript_payload(tmp_path / 'evil.pth', marker)
    with pytest.raises(CheckpointFileError, match='TorchScript'):
        timm.create_model(
            'transxnet_t',
            pretrained=True,
            pretrained_cfg_overlay=dict(file=str(tmp_path / 'evil.pth')),
        )
    assert not marker.exists()
    with pytest.raises(RuntimeError, match='no weights were released'):
        timm.create_model('dmformer_s', pretrained=True)


@pytest.mark.parametrize('name', ['dfformer_s18', 'cdfformer_s36', 'dfformer_m36', 'cdfformer_b36'])
def test_dfformer_names_are_registered(name):
    family, arch = name.split('_')
    from official_layout import dfformer_shapes

    model = timm.create_model(name)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == dict(
        dfformer_shapes(family, arch)
    )
    assert model.pretrained_cfg['crop_pct'] == 1.0


def test_dfformer_loads_a_released_file_and_classifies(tmp_path):
    from official_layout import dfformer_shapes

    sd = random_state_dict(dfformer_shapes('cdfformer', 's18'), seed=4)
    torch.save(sd, tmp_path / 'cdfformer_s18.pth')  # released files are raw state dicts
    model = timm.create_model('cdfformer_s18', checkpoint_path=str(tmp_path / 'cdfformer_s18.pth'))
    assert all(torch.equal(v, sd[k]) for k, v in model.state_dict().items())
    assert model.eval()(torch.randn(2, 3, 224, 224)).shape == (2, 1000)
    model.reset_classifier(0)
    assert model(torch.randn(1, 3, 224, 224)).shape == (1, 512)


# ---- timm's model contract, for every registered name --------------------------------------
from mmtokenmix.models.classifiers import TIMM_MODEL_NAMES  # noqa: E402

PRETRAINED_CFG_KEYS = (
    'url',
    'num_classes',
    'input_size',
    'pool_size',
    'crop_pct',
    'interpolation',
    'mean',
    'std',
    'first_conv',
    'classifier',
    'license',
)


def test_all_fifteen_models_are_registered_with_timm():
    assert len(TIMM_MODEL_NAMES) == 15
    assert set(TIMM_MODEL_NAMES) <= set(timm.list_models())
    # the ones with released ImageNet weights name their file
    assert set(timm.list_models(pretrained=True, filter='*former*')) & set(TIMM_MODEL_NAMES) == {
        n for n in TIMM_MODEL_NAMES if 'dfformer' in n
    }
    assert {n for n in timm.list_models(pretrained=True) if n.startswith('transx')} == {
        'transxnet_t',
        'transxnet_s',
        'transxnet_b',
    }


@pytest.mark.parametrize('name', TIMM_MODEL_NAMES)
def test_timm_model_contract(name):
    torch.manual_seed(0)
    model = timm.create_model(name).eval()
    cfg = model.pretrained_cfg
    assert set(PRETRAINED_CFG_KEYS) <= set(cfg), name
    assert {cfg['first_conv'] + '.weight', cfg['classifier'] + '.weight'} <= set(model.state_dict())
    assert cfg['num_classes'] == model.num_classes == 1000 and cfg['input_size'][0] == 3
    first_conv = model.get_submodule(cfg['first_conv'])
    assert isinstance(first_conv, torch.nn.Conv2d) and first_conv.in_channels == 3
    fc = model.get_submodule(cfg['classifier'])
    assert getattr(fc, 'out_features', getattr(fc, 'out_channels', None)) == 1000
    assert any(fc is m for m in model.get_classifier().modules())

    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits = model(x)
        features = model.forward_features(x)
        final, maps = model.forward_intermediates(x)
        last_two = model.forward_intermediates(x, indices=2, intermediates_only=True)
        early, first = model.forward_intermediates(x, indices=[0], stop_early=True)
        pooled = model.forward_head(features, pre_logits=True)
    assert logits.shape == (2, 1000)
    torch.testing.assert_close(model.forward_head(features), logits, rtol=0, atol=0)
    assert features.shape[:2] == (2, model.num_features)
    assert (
        pooled.shape == (2, model.head_hidden_size) and model.head_hidden_size == model.num_features
    )
    torch.testing.assert_close(final, features, rtol=0, atol=0)
    info = model.feature_info
    assert len(maps) == len(info) == model.num_stages
    for m, i in zip(maps, info):
        assert m.shape == (2, i['num_chs'], -(-64 // i['reduction']), -(-64 // i['reduction']))
        model.get_submodule(i['module'])  # names a real module
    for got, want in zip(last_two, maps[-2:]):
        torch.testing.assert_close(got, want, rtol=0, atol=0)
    torch.testing.assert_close(early, maps[0], rtol=0, atol=0)
    torch.testing.assert_close(first[0], maps[0], rtol=0, atol=0)

    # timm's feature extractor (features_only) gives the same maps with the same weights
    feats = timm.create_model(name, features_only=True).eval()
    assert feats.feature_info.channels() == [i['num_chs'] for i in info]
    assert feats.feature_info.reduction() == [i['reduction'] for i in info]
    feats.model.load_state_dict(model.state_dict(), strict=False)
    with torch.no_grad():
        for got, want in zip(feats(x), maps):
            torch.testing.assert_close(got, want, rtol=0, atol=0)
    two = timm.create_model(name, features_only=True, out_indices=(1, 2))
    assert two.feature_info.channels() == [info[1]['num_chs'], info[2]['num_chs']]
    assert sum(p.numel() for p in two.parameters()) < sum(p.numel() for p in feats.parameters())
    assert [t.shape for t in two(x)] == [m.shape for m in maps[1:3]]

    # torch.fx: timm's feature extraction by graph node names traces the model
    from timm.layers import create_feature_extractor, get_graph_node_names

    _, nodes = get_graph_node_names(model)
    traced = create_feature_extractor(model, return_nodes=[nodes[-1]])
    with torch.no_grad():
        torch.testing.assert_close(traced(x)[nodes[-1]], logits, rtol=1e-5, atol=1e-5)

    # layer-wise lr decay groups: the stem, each stage, the head last
    from timm.models import group_parameters

    groups = group_parameters(model, model.group_matcher(coarse=True))
    assert len(groups) == model.num_stages + 2
    assert len(group_parameters(model, model.group_matcher(coarse=False))) > len(groups)

    # timm's default-cfg contract: forward_features is unpooled, pool_size at input_size;
    # without a classifier forward pools, and with global_pool='' it does not
    with torch.no_grad():
        full = model.forward_features(torch.randn(1, *cfg['input_size']))
        assert full.shape[2:] == cfg['pool_size']
        unpooled = timm.create_model(name, num_classes=0, global_pool='').eval()
        assert unpooled(x).shape == (2, model.num_features, *features.shape[2:])
        assert unpooled.forward_head(full).shape == full.shape  # no pooling at any size
        model.reset_classifier(0)
        assert model(x).shape == (2, model.num_features)
        model.reset_classifier(0, '')
        assert model(x).shape == (2, model.num_features, *features.shape[2:])
        with pytest.raises(ValueError, match='needs num_classes=0'):
            model.reset_classifier(5, '')
        model.reset_classifier(0, 'avg')

    # a new head, and other input channels
    model.reset_classifier(7)
    assert model(x).shape == (2, 7)
    model.reset_classifier(0)
    assert model(x).shape == (2, model.num_features)
    gray = timm.create_model(name, in_chans=1, num_classes=3).eval()
    assert gray(torch.randn(1, 1, 64, 64)).shape == (1, 3)


@pytest.mark.parametrize('name', ['transxnet_t', 'cdfformer_s18', 'dmformer_s', 'xformer'])
def test_grad_checkpointing_gives_the_same_gradients(name):
    torch.manual_seed(0)
    model = timm.create_model(name, num_classes=5).train()
    for m in model.modules():  # same dropout/drop path both times: none
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.0
    x = torch.randn(2, 3, 64, 64)
    grads = []
    for enable in (False, True):
        model.set_grad_checkpointing(enable)
        model.zero_grad()
        model(x).square().sum().backward()
        grads.append({k: p.grad.clone() for k, p in model.named_parameters() if p.grad is not None})
    assert model.grad_checkpointing
    assert grads[0].keys() == grads[1].keys()
    for k in grads[0]:
        torch.testing.assert_close(grads[1][k], grads[0][k], msg=k)


@pytest.mark.parametrize('name', ['transxnet_t', 'dfformer_s18', 'dmformer_s', 'xformer'])
def test_torchscript_by_tracing(name):
    """TorchScript by ``torch.jit.trace`` at a fixed input shape (the model's fast paths are
    off while tracing, so the recorded graph holds no cached tensor)."""
    model = timm.create_model(name).eval()
    x, y = torch.randn(2, 3, 64, 64), torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        traced = torch.jit.trace(model, x)
        for inp in (x, y):
            want = model(inp)
            torch.testing.assert_close(
                traced(inp), want, rtol=0, atol=1e-5 * want.abs().max().item()
            )


def _scripted(name: str, **kwargs):
    with timm.set_scriptable(True):
        model = timm.create_model(name, **kwargs).eval()
    return model, torch.jit.script(model)


@pytest.mark.parametrize('name', TIMM_MODEL_NAMES)
def test_torch_jit_script_computes_the_plain_path_at_any_size(name):
    """timm's TorchScript contract: ``torch.jit.script`` compiles every classifier, and the
    compiled model computes what the eager model computes with its fast paths off, at more
    than one input size (a script, unlike a trace, is not tied to one shape)."""
    from mmtokenmix.models.layers.fast_paths import fast_paths

    torch.manual_seed(0)
    model, scripted = _scripted(name)
    for shape in ((1, 3, 64, 64), (2, 3, 72, 56)):
        x = torch.randn(shape)
        with torch.no_grad(), fast_paths(False):
            want = model(x)
        with torch.no_grad():
            got = scripted(x)
        assert got.shape == (shape[0], 1000)
        torch.testing.assert_close(got, want, rtol=0, atol=1e-6 * want.abs().max().item())
    with pytest.raises(Exception, match=r'expects a \(N, 3, H, W\) tensor'):
        scripted(torch.randn(1, 1, 64, 64))


@pytest.mark.parametrize(
    'name', ['transxnet_t', 'dfformer_s18', 'cdfformer_s18', 'dmformer_s', 'xformer']
)
def test_torch_fx_graphs_script_too(name):
    """timm's fx + TorchScript tests: the fx graph of the classifier (our size-dependent mixers
    as leaves) scripts, and so does the fx feature extractor, whose maps have the advertised
    widths (channels-last for DFFormer/CDFFormer, which say so in ``output_fmt``)."""
    from timm.layers import create_feature_extractor, get_graph_node_names

    torch.manual_seed(0)
    x = torch.randn(1, 3, 64, 64)
    model, _ = _scripted(name)
    _, nodes = get_graph_node_names(model)
    graph = torch.jit.script(create_feature_extractor(model, return_nodes=[nodes[-1]]))
    with torch.no_grad():
        torch.testing.assert_close(graph(x)[nodes[-1]], model(x), rtol=1e-5, atol=1e-5)

    torch.manual_seed(1)
    with timm.set_scriptable(True):
        features = timm.create_model(
            name, features_only=True, feature_cfg=dict(feature_cls='fx')
        ).eval()
    with torch.no_grad():
        maps = torch.jit.script(features)(x)
    channels_last = name.startswith(('dfformer', 'cdfformer'))
    assert str(features.output_fmt).endswith('NHWC' if channels_last else 'NCHW')
    assert [m.shape[-1 if channels_last else 1] for m in maps] == features.feature_info.channels()
    torch.manual_seed(1)  # the same weights
    getter = timm.create_model(name, features_only=True).eval()  # timm's default: NCHW maps
    with torch.no_grad():
        for got, want in zip(maps, getter(x)):
            torch.testing.assert_close(
                got.permute(0, 3, 1, 2) if channels_last else got, want, rtol=1e-5, atol=1e-5
            )
