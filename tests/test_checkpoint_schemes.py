"""Every checkpoint scheme mmengine knows (torchvision://, open-mmlab://, mmcls://, s3://, ...)
is resolved as mmengine resolves it and read weights-only once mmtokenmix is imported; nothing
is refused for its scheme. The URL tables are replaced by ones pointing at a server on
127.0.0.1."""

import hashlib
import os.path as osp

import pytest
import torch
from payloads import pickle_payload, torchscript_payload

import mmtokenmix.checkpoints  # noqa: F401  (installs the loaders, as custom_imports does)
from mmtokenmix.checkpoints import CheckpointFileError, load_checkpoint_file


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """torch hub's and mmengine's folders in tmp_path (yields the hub checkpoints folder)."""
    monkeypatch.setenv('MMENGINE_HOME', str(tmp_path / 'mmengine_home'))
    old = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / 'hub'))
    yield tmp_path / 'hub' / 'checkpoints'
    torch.hub.set_dir(old)


def _named_by_hash(folder, stem, obj):
    """Save ``obj`` as ``<stem>-<sha256[:8]>.pth`` in ``folder`` (torch hub's naming)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / 'tmp.pth'
    torch.save(obj, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    target = folder / f'{stem}-{digest}.pth'
    tmp.rename(target)
    return target.name


def _tables(monkeypatch, torchvision=None, openmmlab=None, mmcls=None, deprecated=None):
    from mmengine.runner import checkpoint

    monkeypatch.setattr(checkpoint, 'get_torchvision_models', lambda: dict(torchvision or {}))
    monkeypatch.setattr(checkpoint, 'get_external_models', lambda: dict(openmmlab or {}))
    monkeypatch.setattr(checkpoint, 'get_mmcls_models', lambda: dict(mmcls or {}))
    monkeypatch.setattr(checkpoint, 'get_deprecated_model_names', lambda: dict(deprecated or {}))


def test_every_mmengine_scheme_has_a_weights_only_loader():
    from mmengine.runner.checkpoint import CheckpointLoader

    for prefix, loader in CheckpointLoader._schemes.items():
        assert loader.__module__.startswith('mmtokenmix.checkpoints'), (prefix, loader)
        assert loader.__name__.endswith('_weights_only'), (prefix, loader.__name__)


def test_torchvision_scheme_downloads_into_torch_hub_and_reads_weights_only(
    file_server, hub, monkeypatch
):
    from mmengine.runner.checkpoint import CheckpointLoader

    root, base = file_server
    weights = {'conv1.weight': torch.randn(4, 3, 3, 3)}
    name = _named_by_hash(root, 'resnet18', weights)
    _tables(monkeypatch, torchvision={'resnet18': f'{base}/{name}'})
    for uri in ('torchvision://resnet18', 'modelzoo://resnet18'):
        loaded = CheckpointLoader.load_checkpoint(uri)
        assert torch.equal(loaded['conv1.weight'], weights['conv1.weight'])
    assert (hub / name).is_file()  # where torch hub and mmengine keep it

    (root / name).unlink()  # a file torch hub downloaded earlier (no record of ours) is reused
    (hub / (name + '.source.json')).unlink()
    assert torch.equal(
        load_checkpoint_file('torchvision://resnet18')['conv1.weight'], weights['conv1.weight']
    )
    with pytest.raises(CheckpointFileError, match="no model 'resnet19'"):
        load_checkpoint_file('torchvision://resnet19')


@pytest.mark.parametrize('payload', [pickle_payload, torchscript_payload])
def test_schemes_refuse_payloads(file_server, hub, monkeypatch, tmp_path, payload):
    root, base = file_server
    marker = tmp_path / 'marker'
    payload(root / 'evil.pth', marker)
    _tables(
        monkeypatch,
        torchvision={'evil': f'{base}/evil.pth'},
        openmmlab={'evil': f'{base}/evil.pth'},
        mmcls={'evil': f'{base}/evil.pth'},
    )
    for uri in ('torchvision://evil', 'open-mmlab://evil', 'mmcls://evil'):
        with pytest.raises(CheckpointFileError, match='refusing'):
            load_checkpoint_file(uri)
    assert not marker.exists()
    assert not (hub / 'evil.pth').exists()  # refused downloads are not kept


def test_open_mmlab_scheme_follows_deprecations_and_mmengine_home(
    file_server, hub, monkeypatch, tmp_path
):
    root, base = file_server
    weights = {'w': torch.arange(3.0)}
    name = _named_by_hash(root, 'resnet50_v1c', weights)
    home = tmp_path / 'mmengine_home'
    home.mkdir()
    torch.save({'w': torch.ones(2)}, home / 'local_model.pth')
    _tables(
        monkeypatch,
        openmmlab={'resnet50_v1c': f'{base}/{name}', 'local': 'local_model.pth'},
        deprecated={'resnet50_old': 'resnet50_v1c'},
    )
    for uri in ('open-mmlab://resnet50_v1c', 'openmmlab://resnet50_old'):
        assert torch.equal(load_checkpoint_file(uri)['w'], weights['w'])
    assert torch.equal(load_checkpoint_file('open-mmlab://local')['w'], torch.ones(2))


def test_mmcls_scheme_keeps_backbone_weights(file_server, hub, monkeypatch):
    root, base = file_server
    name = _named_by_hash(
        root,
        'resnet18_8xb32_in1k',
        {'state_dict': {'backbone.conv1.weight': torch.ones(1), 'head.fc.weight': torch.zeros(1)}},
    )
    _tables(monkeypatch, mmcls={'resnet18': f'{base}/{name}'})
    loaded = load_checkpoint_file('mmcls://resnet18')
    assert list(loaded['state_dict']) == ['conv1.weight']


def test_s3_scheme_reads_the_file_backends_bytes_weights_only(tmp_path, monkeypatch):
    import mmengine.fileio.io as fileio
    from mmengine.fileio.backends import BaseStorageBackend, registry_utils

    blobs = {}

    class FakePetrel(BaseStorageBackend):
        def __init__(self, **kwargs):
            pass

        def get(self, filepath):
            return blobs[filepath]

        def get_text(self, filepath, encoding='utf-8'):
            return blobs[filepath].decode(encoding)

    # mmengine's petrel backend needs petrel_client; this one serves bytes from a dict
    monkeypatch.setitem(registry_utils.backends, 'petrel', FakePetrel)
    monkeypatch.setattr(fileio, 'backend_instances', {})
    good = tmp_path / 'good.pth'
    torch.save({'w': torch.ones(2)}, good)
    blobs['s3://bucket/good.pth'] = blobs['cluster:s3://bucket/good.pth'] = good.read_bytes()
    marker = tmp_path / 'marker'
    blobs['s3://bucket/evil.pth'] = open(
        torchscript_payload(tmp_path / 'e.pth', marker), 'rb'
    ).read()
    from mmengine.runner.checkpoint import CheckpointLoader

    for uri in ('s3://bucket/good.pth', 'cluster:s3://bucket/good.pth'):
        assert torch.equal(CheckpointLoader.load_checkpoint(uri)['w'], torch.ones(2))
    with pytest.raises(CheckpointFileError, match="TorchScript.*|'s3://bucket/evil.pth'"):
        CheckpointLoader.load_checkpoint('s3://bucket/evil.pth')
    assert not marker.exists()


def test_pavi_scheme_without_pavi_says_what_to_install():
    with pytest.raises(ImportError, match='install pavi'):
        load_checkpoint_file('pavi://some/model.pth')


def test_unknown_scheme_is_a_clear_error():
    with pytest.raises(CheckpointFileError, match='unknown scheme'):
        load_checkpoint_file('gopher://host/x.pth')


def test_stock_mmdet_backbone_initialised_from_torchvision_scheme(file_server, hub, monkeypatch):
    """A stock part of a user's model (here mmdet's ResNet-18, as in mmdet's configs) still
    initialises from torchvision:// with mmtokenmix imported."""
    import torchvision
    from mmdet.models.backbones import ResNet

    root, base = file_server
    reference = torchvision.models.resnet18()
    name = _named_by_hash(root, 'resnet18', reference.state_dict())
    _tables(monkeypatch, torchvision={'resnet18': f'{base}/{name}'})
    model = ResNet(depth=18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'))
    model.init_weights()
    assert torch.equal(model.conv1.weight, reference.conv1.weight)
    assert torch.equal(model.layer4[1].conv2.weight, reference.layer4[1].conv2.weight)
    assert osp.isfile(hub / name)


def test_a_missing_file_is_still_a_file_not_found_error(tmp_path):
    """mmengine's local loader raises FileNotFoundError for a missing file; with mmtokenmix
    imported, code catching that still catches it."""
    from mmengine.runner.checkpoint import CheckpointLoader

    with pytest.raises(FileNotFoundError, match='missing.pth'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'missing.pth'))
    with pytest.raises(CheckpointFileError):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))
