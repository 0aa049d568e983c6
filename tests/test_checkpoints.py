import os.path as osp
import subprocess
import sys

import pytest
import torch
from official_layout import official_shapes, random_state_dict

from mmtokenmix.checkpoints import CheckpointMismatchError
from mmtokenmix.converters.transxnet import convert_transxnet_checkpoint
from mmtokenmix.models import TransXNet


def _save(obj, path):
    torch.save(obj, path)
    return str(path)


@pytest.mark.parametrize(
    'container', ['raw', 'state_dict', 'model', 'state_dict_ema', 'module_prefix']
)
def test_official_imagenet_checkpoint_loads_strictly(tmp_path, container):
    sd = random_state_dict(official_shapes('t'), seed=1)
    if container == 'raw':
        obj = sd
    elif container == 'module_prefix':
        obj = {'state_dict': {'module.' + k: v for k, v in sd.items()}}
    else:
        obj = {container: sd, 'epoch': 300}
    path = _save(obj, tmp_path / 'transx-t.pth.tar')
    model = TransXNet('t', init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    own = model.state_dict()
    for k, v in sd.items():
        if not k.startswith('classifier.'):
            torch.testing.assert_close(own[k], v, msg=k)
    # the output norms are not in the file: they start as identity-affine
    assert torch.all(own['norm6.weight'] == 1) and torch.all(own['norm6.bias'] == 0)


def test_state_dict_is_preferred_over_ema_like_upstream(tmp_path):
    sd = random_state_dict(official_shapes('t'), seed=1)
    ema = random_state_dict(official_shapes('t'), seed=2)
    path = _save({'state_dict': sd, 'state_dict_ema': ema}, tmp_path / 'x.pth')
    model = TransXNet('t', init_cfg=dict(type='Pretrained', checkpoint=path))
    model.init_weights()
    torch.testing.assert_close(model.state_dict()['relative_pos_enc.0'], sd['relative_pos_enc.0'])


@pytest.mark.parametrize(
    'damage,listed',
    [
        ('drop', 'missing keys (1):\n    network.4.3.mlp.fc1.0.weight'),
        ('extra', 'unexpected keys (1):\n    network.4.3.mlp.extra'),
        ('shape', 'relative_pos_enc.1: checkpoint (1, 2, 3136, 49) vs model (1, 2, 784, 49)'),
        ('arch', 'missing keys'),
    ],
)
def test_damaged_checkpoint_fails_listing_keys(tmp_path, damage, listed):
    sd = random_state_dict(official_shapes('t'), seed=1)
    if damage == 'drop':
        del sd['network.4.3.mlp.fc1.0.weight']
    elif damage == 'extra':
        sd['network.4.3.mlp.extra'] = torch.zeros(3)
    elif damage == 'shape':
        sd['relative_pos_enc.1'] = torch.zeros(1, 2, 3136, 49)
    path = _save({'state_dict': sd}, tmp_path / 'bad.pth')
    arch = 's' if damage == 'arch' else 't'
    model = TransXNet(arch, init_cfg=dict(type='Pretrained', checkpoint=path))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(CheckpointMismatchError) as err:
        model.init_weights()
    assert listed in str(err.value)
    # nothing was loaded
    for k, v in model.state_dict().items():
        torch.testing.assert_close(v, before[k], msg=k)


def test_missing_checkpoint_file_says_what_to_do(tmp_path):
    model = TransXNet(
        't', init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'transx-t.pth.tar'))
    )
    with pytest.raises(FileNotFoundError, match='init_cfg=None'):
        model.init_weights()


def test_prefix_loads_the_backbone_of_a_dense_checkpoint(tmp_path):
    backbone = random_state_dict(official_shapes('t', dense_norms=(1, 2, 3)), seed=4)
    whole = {'backbone.' + k: v for k, v in backbone.items()}
    whole['neck.lateral_convs.0.conv.weight'] = torch.zeros(256, 96, 1, 1)
    path = _save({'meta': {}, 'state_dict': whole}, tmp_path / 'retinanet_tiny.pth')
    model = TransXNet(
        't',
        out_indices=(1, 2, 3),
        init_cfg=dict(type='Pretrained', checkpoint=path, prefix='backbone.'),
    )
    model.init_weights()
    torch.testing.assert_close(model.state_dict()['norm2.weight'], backbone['norm2.weight'])


def _detector_checkpoint(seed=5):
    """An mmdet 2.x RetinaNet-TransXNet-T checkpoint in the official layout (start_level=1, so
    no norm0), which must be exactly the key/shape layout of our mmdet 3.x RetinaNet."""
    from mmengine import Config
    from official_layout import official_dense_shapes

    from mmtokenmix.analysis import build_model_from_config

    detector = build_model_from_config(
        Config.fromfile(
            osp.join(osp.dirname(osp.dirname(__file__)), 'configs/retinanet_transxnet_t_coco.py')
        )
    )
    shapes = official_dense_shapes('retinanet')
    assert {k: tuple(v.shape) for k, v in detector.state_dict().items()} == dict(shapes)
    return detector, random_state_dict(shapes, seed=seed)


def test_converter_round_trips_a_whole_detector_checkpoint(tmp_path, repo_root):
    detector, sd = _detector_checkpoint()
    src = _save(
        {'meta': {'mmdet_version': '2.28.2'}, 'state_dict': sd, 'optimizer': {'state': {}}},
        tmp_path / 'retinanet_tiny.pth',
    )
    dst = tmp_path / 'converted.pth'
    out = subprocess.run(
        [sys.executable, 'tools/model_converters/transxnet2mmtokenmix.py', src, str(dst)],
        cwd=repo_root,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert 'TransXNet-T (whole retinanet model' in out.stdout
    from mmengine.runner import load_checkpoint

    load_checkpoint(detector, str(dst), strict=True)
    for k, v in detector.state_dict().items():
        torch.testing.assert_close(v, sd[k], msg=k)


def test_converter_prefixes_an_imagenet_checkpoint():
    sd = random_state_dict(official_shapes('s'), seed=6)
    out, info = convert_transxnet_checkpoint({'state_dict_ema': sd})
    assert info == dict(arch='s', image_size=224, whole_model=False, out_norm_stages=[])
    assert all(k.startswith('backbone.') for k in out)
    assert 'backbone.classifier.2.weight' not in out
    assert len(out) == len(sd) - 4


def test_converter_detects_384_checkpoints_and_rejects_damage():
    sd = random_state_dict(official_shapes('b', image_size=384), seed=7)
    _, info = convert_transxnet_checkpoint(sd)
    assert info['arch'] == 'b' and info['image_size'] == 384
    del sd['network.2.1.norm2.bias']
    with pytest.raises(CheckpointMismatchError, match=r'network\.2\.1\.norm2\.bias'):
        convert_transxnet_checkpoint(sd)
