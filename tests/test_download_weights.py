"""tools/misc/download_weights.py and the table of released checkpoints, against HTTP servers on
127.0.0.1 serving synthesised files in the official layouts (never a real host)."""

import hashlib
import os
import os.path as osp
import time

import pytest
import torch
from conftest import load_tool
from mmengine import Config
from official_layout import official_dense_shapes, official_shapes, random_state_dict

from mmtokenmix.checkpoints.official import OFFICIAL_CHECKPOINTS, official_checkpoint_for_path

download_weights = load_tool('tools/misc/download_weights.py')


def _backbone_checkpoint(config_path):
    init_cfg = Config.fromfile(config_path).model.backbone.get('init_cfg')
    return init_cfg.get('checkpoint') if init_cfg else None


def test_every_entry_names_configs_that_exist_and_load_its_file(repo_root):
    assert len(OFFICIAL_CHECKPOINTS) == 22  # TransXNet 4 + 9 dense, DFFormer 8, MobileViT 1
    for entry in OFFICIAL_CHECKPOINTS.values():
        assert entry.url.startswith('https://') and entry.url.endswith(entry.file_name)
        assert official_checkpoint_for_path(entry.save_as) is entry
        for config in entry.configs:
            path = osp.join(repo_root, config)
            assert osp.exists(path), config
            if entry.converter is None:  # ImageNet files: the config's backbone loads them
                assert _backbone_checkpoint(path) == entry.save_as, config
            else:
                assert entry.converted_as == f'checkpoints/{osp.basename(config)[:-3]}.pth'


def test_the_docs_table_is_the_markdown_list_output(repo_root, capsys):
    download_weights.main(['--list', '--markdown'])
    table = capsys.readouterr().out.strip()
    assert table.count('\n') == len(OFFICIAL_CHECKPOINTS) + 1
    with open(osp.join(repo_root, 'docs', 'checkpoints.md')) as f:
        assert table in f.read(), 'docs/checkpoints.md: paste the output of --list --markdown'


def test_the_terminal_list_names_every_checkpoint_within_100_columns(capsys):
    download_weights.main(['--list'])
    lines = capsys.readouterr().out.rstrip('\n').split('\n')
    assert max(len(line) for line in lines) <= 100
    names = [line.split()[0] for line in lines[1:-1]]
    assert names == list(OFFICIAL_CHECKPOINTS)
    assert 'retinanet_transxnet_t_coco' in names and '(converted)' in '\n'.join(lines)


def test_dmformer_configs_train_from_scratch_by_default(repo_root):
    for name in os.listdir(osp.join(repo_root, 'configs')):
        if 'dmformer' in name and name.endswith('.py'):
            assert _backbone_checkpoint(osp.join(repo_root, 'configs', name)) is None, name


def _serve_imagenet_transxnet_t(root):
    state_dict = random_state_dict(official_shapes('t'), seed=11)
    torch.save(
        {'epoch': 299, 'arch': 'transxnet_t', 'state_dict': state_dict}, root / 'transx-t.pth.tar'
    )
    return state_dict


def test_downloads_checks_and_names_the_configs(file_server, tmp_path, capsys):
    root, url = file_server
    state_dict = _serve_imagenet_transxnet_t(root)
    out_dir = tmp_path / 'checkpoints'
    download_weights.main(
        ['transxnet_t_in1k', '--mirror', url, '--out-dir', str(out_dir), '--timeout', '10']
    )
    printed = capsys.readouterr().out
    saved = out_dir / 'transx-t.pth.tar'
    digest = hashlib.sha256(saved.read_bytes()).hexdigest()
    assert f'SHA-256 {digest}' in printed
    assert "checked: every key and shape fits timm model 'transxnet_t'" in printed
    assert 'used by: configs/retinanet_transxnet_t_coco.py' in printed
    loaded = torch.load(saved, weights_only=True)['state_dict']
    assert all(torch.equal(loaded[k], v) for k, v in state_dict.items())
    # a second run verifies the file already there against --sha256 and keeps it
    download_weights.main(
        ['transxnet_t_in1k', '--mirror', url, '--out-dir', str(out_dir), '--sha256', digest]
    )
    assert f'verified against {digest}' in capsys.readouterr().out


def test_a_wrong_checksum_is_refused_and_nothing_is_kept(file_server, tmp_path):
    root, url = file_server
    _serve_imagenet_transxnet_t(root)
    out_dir = tmp_path / 'checkpoints'
    with pytest.raises(SystemExit, match='corrupt or not the expected file'):
        download_weights.main(
            ['transxnet_t_in1k', '--mirror', url, '--out-dir', str(out_dir), '--sha256', 'deadbeef']
        )
    assert not out_dir.exists() or os.listdir(out_dir) == []
    # the MobileViT file's name carries its checksum: other bytes under that name are refused
    entry = OFFICIAL_CHECKPOINTS['mobilevit_s_in1k']
    torch.save({'state_dict': {'w': torch.zeros(2)}}, root / entry.file_name)
    with pytest.raises(SystemExit, match='corrupt or not the expected file.*cb4f741c'):
        download_weights.main(['mobilevit_s_in1k', '--mirror', url, '--out-dir', str(out_dir)])
    assert not out_dir.exists() or os.listdir(out_dir) == []


def test_a_server_that_stalls_stops_the_download(silent_server, tmp_path):
    start = time.monotonic()
    with pytest.raises(SystemExit, match='timed out'):
        download_weights.main(
            [
                'dfformer_s18_in1k',
                '--mirror',
                silent_server,
                '--out-dir',
                str(tmp_path),
                '--timeout',
                '1',
            ]
        )
    assert time.monotonic() - start < 30
    assert os.listdir(tmp_path) == []


def test_an_unknown_name_lists_the_known_ones(capsys):
    with pytest.raises(SystemExit):
        download_weights.main(['transxnet_x_in1k'])
    assert 'retinanet_transxnet_t_coco' in capsys.readouterr().err


def test_a_whole_detector_file_is_converted_for_its_config(
    file_server, tmp_path, capsys, repo_root, monkeypatch
):
    root, url = file_server
    state_dict = random_state_dict(official_dense_shapes('retinanet'), seed=12)
    torch.save(
        {'meta': {'mmdet_version': '2.28.2'}, 'state_dict': state_dict}, root / 'retinanet_tiny.pth'
    )
    monkeypatch.chdir(repo_root)
    out_dir = tmp_path / 'checkpoints'
    download_weights.main(
        ['retinanet_transxnet_t_coco', '--mirror', url, '--out-dir', str(out_dir)]
    )
    printed = capsys.readouterr().out
    converted = out_dir / 'retinanet_transxnet_t_coco.pth'
    assert (
        f'evaluate with: python tools/test.py configs/retinanet_transxnet_t_coco.py {converted}'
    ) in printed
    from mmengine.runner import load_checkpoint

    from mmtokenmix.analysis import build_model_from_config

    detector = build_model_from_config(Config.fromfile('configs/retinanet_transxnet_t_coco.py'))
    load_checkpoint(detector, str(converted), strict=True)
    for k, v in detector.state_dict().items():
        torch.testing.assert_close(v, state_dict[k], msg=k)


@pytest.mark.parametrize('bad', ['', 'not-hex', 'abc'])
def test_an_empty_or_malformed_sha256_option_is_an_error(tmp_path, capsys, bad):
    with pytest.raises(SystemExit) as exit_:
        download_weights.main(
            [
                'transxnet_t_in1k',
                '--mirror',
                'http://127.0.0.1:9',
                '--out-dir',
                str(tmp_path),
                '--sha256',
                bad,
            ]
        )
    assert exit_.value.code == 2
    assert '--sha256: a SHA-256 must be 8 to 64 hex digits' in capsys.readouterr().err
    assert os.listdir(tmp_path) == []


def test_a_refused_download_is_deleted(file_server, tmp_path):
    from payloads import pickle_payload, torchscript_payload

    root, url = file_server
    out_dir = tmp_path / 'checkpoints'
    for make, refusal in (
        (pickle_payload, 'refusing to fully unpickle'),
        (torchscript_payload, 'TorchScript archive'),
    ):
        make(root / 'transx-t.pth.tar', tmp_path / 'marker')
        with pytest.raises(SystemExit, match=refusal):
            download_weights.main(['transxnet_t_in1k', '--mirror', url, '--out-dir', str(out_dir)])
        assert not (tmp_path / 'marker').exists()
        assert not out_dir.exists() or os.listdir(out_dir) == []


def test_a_file_from_one_mirror_is_not_taken_for_another_url(file_server, tmp_path, capsys):
    root, url = file_server
    (root / 'bad_mirror').mkdir()
    torch.save(
        {'epoch': 1, 'state_dict': random_state_dict(official_shapes('t'), seed=1)},
        root / 'bad_mirror' / 'transx-t.pth.tar',
    )
    good = _serve_imagenet_transxnet_t(root)
    out_dir = tmp_path / 'checkpoints'
    download_weights.main(
        ['transxnet_t_in1k', '--mirror', f'{url}/bad_mirror', '--out-dir', str(out_dir)]
    )
    download_weights.main(['transxnet_t_in1k', '--mirror', url, '--out-dir', str(out_dir)])
    saved = torch.load(out_dir / 'transx-t.pth.tar', weights_only=True)['state_dict']
    assert all(torch.equal(saved[k], v) for k, v in good.items())
    assert 'size checked against Content-Length' in capsys.readouterr().out
