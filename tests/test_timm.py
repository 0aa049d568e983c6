import pytest
import torch
from official_layout import official_shapes, random_state_dict

import mmtokenmix.models  # noqa: F401  (registers the timm names)
timm = pytest.importorskip('timm')


@pytest.mark.parametrize('name,params', [('transxnet_t', 12_834_808),
                                         ('transxnet_s', 26_864_068)])
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


def test_pretrained_download_is_refused():
    with pytest.raises(RuntimeError, match='checkpoint_path'):
        timm.create_model('transxnet_t', pretrained=True)


@pytest.mark.parametrize('name', ['dfformer_s18', 'cdfformer_s36', 'dfformer_m36',
                                  'cdfformer_b36'])
def test_dfformer_names_are_registered(name):
    family, arch = name.split('_')
    from official_layout import dfformer_shapes
    model = timm.create_model(name)
    assert {k: tuple(v.shape) for k, v in model.state_dict().items()} == dict(
        dfformer_shapes(family, arch))
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
