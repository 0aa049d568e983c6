"""Checkpoint files are read weights-only on every path (no code from a file ever runs), bad
files get errors that name them, and URLs are fetched with timeouts and hash checks."""

import os
import os.path as osp
import subprocess
import sys
import time

import pytest
import torch
from conftest import REPO
from payloads import pickle_payload

from mmtokenmix.checkpoints import CheckpointFileError, download_checkpoint, load_checkpoint_file


def _malicious(path, marker, state_dict=None):
    return pickle_payload(path, marker, state_dict)


def _run(args, cwd, timeout=600):
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def _assert_refused(proc, path, marker):
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    assert 'refusing to fully unpickle' in out and path in out, out[-3000:]
    assert 'builtins.exec' in out  # says what the file asked for
    assert not osp.exists(marker), 'the payload ran'


def test_load_checkpoint_file_refuses_a_pickle_payload_and_names_it(tmp_path):
    marker = tmp_path / 'marker'
    path = _malicious(tmp_path / 'evil.pth', marker)
    with pytest.raises(CheckpointFileError, match=r'refusing.*evil\.pth.*builtins\.exec'):
        load_checkpoint_file(path)
    assert not marker.exists()


def test_the_per_call_opt_in_does_run_full_unpickling(tmp_path):
    marker = tmp_path / 'marker'
    path = _malicious(tmp_path / 'trusted_legacy.pth', marker)
    load_checkpoint_file(path, allow_unsafe=True)
    assert marker.exists()  # which is exactly why it is opt-in


def test_backbone_pretrained_init_cfg_refuses_a_payload(tmp_path):
    from mmtokenmix.models import TransXNet

    marker = tmp_path / 'marker'
    path = _malicious(tmp_path / 'transx-t.pth', marker)
    model = TransXNet('t', init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(CheckpointFileError, match='refusing'):
        model.init_weights()
    assert not marker.exists()


def test_mmengine_loading_is_routed_through_the_safe_reader(tmp_path):
    """load_from / resume / the stock tools read files through mmengine's CheckpointLoader."""
    from mmengine.runner.checkpoint import CheckpointLoader, _load_checkpoint

    import mmtokenmix.checkpoints  # noqa: F401  (what a config's custom_imports does)

    marker = tmp_path / 'marker'
    path = _malicious(tmp_path / 'evil.pth', marker)
    with pytest.raises(CheckpointFileError, match='refusing'):
        _load_checkpoint(path)
    with pytest.raises(CheckpointFileError, match='refusing'):
        CheckpointLoader.load_checkpoint(path)
    assert not marker.exists()  # the other schemes: tests/test_checkpoint_schemes.py


@pytest.mark.parametrize('tool', ['transxnet2mmtokenmix.py', 'dfformer2mmtokenmix.py'])
def test_converters_refuse_a_payload(tmp_path, tool):
    marker = tmp_path / 'marker'
    path = _malicious(tmp_path / 'official.pth', marker)
    proc = _run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'model_converters', tool),
            path,
            tmp_path / 'out.pth',
        ],
        cwd=tmp_path,
    )
    _assert_refused(proc, path, marker)
    assert not (tmp_path / 'out.pth').exists()


def test_test_tool_and_train_tool_refuse_payloads(toy_workdir, tmp_path):
    config = osp.join(REPO, 'configs', 'retinanet_transxnet_t_toy.py')
    marker = tmp_path / 'marker'
    path = _malicious(tmp_path / 'evil.pth', marker)
    cases = [
        ['tools/test.py', config, path],
        ['tools/train.py', config, '--resume', path],
        ['tools/train.py', config, '--cfg-options', f'load_from={path}'],
    ]
    for case in cases:
        proc = _run(
            [sys.executable, osp.join(REPO, case[0]), *case[1:], '--work-dir', tmp_path / 'work'],
            cwd=toy_workdir,
        )
        _assert_refused(proc, path, marker)


def test_truncated_and_random_files_get_errors_naming_them(tmp_path):
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.randn(1000)}}, good)
    data = good.read_bytes()
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointFileError, match=r"truncated\.pth.*truncated or damaged"):
        load_checkpoint_file(str(truncated))
    noise = tmp_path / 'noise.pth'
    noise.write_bytes(os.urandom(4096).replace(b'\x80', b'\x00').replace(b'PK', b'pk'))
    with pytest.raises(CheckpointFileError, match=r"noise\.pth.*not a PyTorch checkpoint"):
        load_checkpoint_file(str(noise))
    with pytest.raises(CheckpointFileError, match=r'missing\.pth.*not found'):
        load_checkpoint_file(str(tmp_path / 'missing.pth'))


def test_resume_with_a_file_that_is_not_a_resume_checkpoint_explains_itself(toy_workdir, tmp_path):
    from mmengine.config import Config

    from mmtokenmix.analysis import build_model_from_config

    config = osp.join(REPO, 'configs', 'retinanet_transxnet_t_toy.py')
    weights = tmp_path / 'weights_only.pth'
    torch.save(
        {'state_dict': build_model_from_config(Config.fromfile(config)).state_dict()}, weights
    )
    proc = _run(
        [
            sys.executable,
            osp.join(REPO, 'tools/train.py'),
            config,
            '--resume',
            weights,
            '--work-dir',
            tmp_path / 'work',
        ],
        cwd=toy_workdir,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert 'not a resume checkpoint of a training run' in out and 'load_from' in out
    assert "KeyError: 'epoch'" not in out


def test_train_refuses_a_load_from_that_does_not_fit_unless_partial(toy_workdir, tmp_path):
    """An ImageNet backbone file as load_from: 0 tensors of the detector match."""
    from mmtokenmix.models import TransXNet

    config = osp.join(REPO, 'configs', 'retinanet_transxnet_t_toy.py')
    backbone = tmp_path / 'backbone.pth'
    torch.save(TransXNet('t').state_dict(), backbone)
    base = [
        sys.executable,
        osp.join(REPO, 'tools/train.py'),
        config,
        '--work-dir',
        tmp_path / 'work',
        '--cfg-options',
        f'load_from={backbone}',
        'train_cfg.max_epochs=1',
        'train_dataloader.batch_size=8',
        'train_cfg.val_interval=9',
    ]
    proc = _run(base, cwd=toy_workdir)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert 'does not match' in out and 'missing keys' in out
    assert 'backbone.stages.0' in out or 'bbox_head.' in out
    assert 'Epoch(train)' not in out
    proc = _run(base + ['--partial-load'], cwd=toy_workdir)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert '--partial-load of' in out and ' 0 of ' in out and 'not loaded: ' in out
    assert 'Epoch(train) [1][2/2]' in out


def test_converters_refuse_to_overwrite_src_and_a_bad_nominal_size(tmp_path):
    src = tmp_path / 'dfformer_s18.pth'
    torch.save({'w': torch.zeros(1)}, src)
    tool = osp.join(REPO, 'tools', 'model_converters', 'dfformer2mmtokenmix.py')
    proc = _run([sys.executable, tool, src, src], cwd=tmp_path)
    assert proc.returncode != 0 and 'would overwrite the official file' in proc.stderr
    proc = _run(
        [sys.executable, tool, src, tmp_path / 'out.pth', '--nominal-size', '0'], cwd=tmp_path
    )
    assert proc.returncode != 0 and 'must be a positive number of pixels' in proc.stderr


def test_corrupt_annotation_json_is_named(toy_workdir, tmp_path):
    import shutil

    shutil.copytree(toy_workdir / 'data', tmp_path / 'data')
    ann = tmp_path / 'data' / 'toy' / 'annotations' / 'instances_train.json'
    ann.write_text(ann.read_text()[:100])
    proc = _run(
        [
            sys.executable,
            osp.join(REPO, 'tools/train.py'),
            osp.join(REPO, 'configs', 'retinanet_transxnet_t_toy.py'),
            '--work-dir',
            tmp_path / 'work',
        ],
        cwd=tmp_path,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "annotation file 'data/toy/annotations/instances_train.json' is not valid JSON" in out


def test_backbones_refuse_empty_out_indices_and_empty_batches():
    from mmtokenmix.models import CDFFormer, DFFormer, DMFormer, TransXNet, XFormer

    for cls, arch in (
        (TransXNet, 't'),
        (DFFormer, 's18'),
        (CDFFormer, 's18'),
        (DMFormer, 's'),
        (XFormer, 's'),
    ):
        with pytest.raises(ValueError, match='out_indices is empty'):
            cls(arch, out_indices=())
        with pytest.raises(ValueError, match='batch of 0 images'):
            cls(arch)(torch.zeros(0, 3, 64, 64))


# ---- downloads --------------------------------------------------------------------------------
def test_download_from_a_server_that_never_answers_times_out(silent_server, tmp_path):
    start = time.monotonic()
    with pytest.raises(CheckpointFileError, match='timed out: no answer within 1 s'):
        download_checkpoint(f'{silent_server}/w.pth', cache_dir=str(tmp_path), timeout=1)
    assert time.monotonic() - start < 30
    assert os.listdir(tmp_path) == []


def test_pretrained_url_in_init_cfg_times_out_with_the_env_setting(
    silent_server, tmp_path, monkeypatch
):
    from mmtokenmix.models import TransXNet

    monkeypatch.setenv('MMTOKENMIX_DOWNLOAD_TIMEOUT', '1')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    model = TransXNet(
        't', init_cfg=dict(type='Pretrained', checkpoint=f'{silent_server}/transx-t.pth')
    )
    with pytest.raises(CheckpointFileError, match='timed out'):
        model.init_weights()


def test_download_checks_the_hash_in_the_name_and_caches_only_good_files(file_server, tmp_path):
    import hashlib

    root, url = file_server
    torch.save({'w': torch.arange(4.0)}, root / 'weights.pth')
    digest = hashlib.sha256((root / 'weights.pth').read_bytes()).hexdigest()
    (root / f'weights-{digest[:8]}.pth').write_bytes((root / 'weights.pth').read_bytes())
    (root / 'weights-deadbeef.pth').write_bytes((root / 'weights.pth').read_bytes())
    cache = tmp_path / 'cache'
    path = download_checkpoint(f'{url}/weights-{digest[:8]}.pth', cache_dir=str(cache))
    assert torch.equal(load_checkpoint_file(path)['w'], torch.arange(4.0))
    with pytest.raises(CheckpointFileError, match='corrupt.*deadbeef'):
        download_checkpoint(f'{url}/weights-deadbeef.pth', cache_dir=str(cache))
    # the file and the record of where it came from; nothing of the refused download
    assert sorted(os.listdir(cache)) == [
        f'weights-{digest[:8]}.pth',
        f'weights-{digest[:8]}.pth.source.json',
    ]
    with pytest.raises(CheckpointFileError, match='cannot download.*404'):
        download_checkpoint(f'{url}/missing.pth', cache_dir=str(cache))


@pytest.mark.parametrize('mode', ['with-length', 'no-length'])
def test_a_download_cut_short_leaves_nothing_in_the_cache(truncating_server, tmp_path, mode):
    root, url = truncating_server
    torch.save({'w': torch.randn(20000)}, root / 'weights.pth')
    cache = tmp_path / 'cache'
    expected = 'stopped after .* of .* bytes' if mode == 'with-length' else 'truncated or damaged'
    for _ in range(2):  # and the second attempt does not find a half file either
        with pytest.raises(CheckpointFileError, match=expected):
            download_checkpoint(f'{url}/{mode}/weights.pth', cache_dir=str(cache))
        assert os.listdir(cache) == []


def test_the_cache_is_keyed_by_url_not_by_file_name(file_server, tmp_path, monkeypatch):
    root, url = file_server
    (root / 'mirror').mkdir()
    (root / 'release').mkdir()
    torch.save({'w': torch.zeros(3)}, root / 'mirror' / 'w.pth')
    torch.save({'w': torch.ones(3)}, root / 'release' / 'w.pth')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    for base in (f'{url}/mirror', f'{url}/release', f'{url}/mirror'):  # the default cache
        expected = torch.ones(3) if 'release' in base else torch.zeros(3)
        assert torch.equal(load_checkpoint_file(f'{base}/w.pth')['w'], expected)
    # one folder for the released files (download_weights.py --out-dir): the file of another
    # URL is not reused but replaced, as it is ours (it has a record)
    out = tmp_path / 'checkpoints'
    first = download_checkpoint(f'{url}/mirror/w.pth', cache_dir=str(out))
    second = download_checkpoint(f'{url}/release/w.pth', cache_dir=str(out))
    assert first == second and torch.equal(load_checkpoint_file(second)['w'], torch.ones(3))
    # ... unless a known checksum says it is the same file
    import hashlib

    digest = hashlib.sha256((root / 'release' / 'w.pth').read_bytes()).hexdigest()
    (root / 'release' / 'w.pth').write_bytes(b'the server now has something else')
    assert (
        download_checkpoint(f'{url}/elsewhere/w.pth', cache_dir=str(out), sha256=digest[:12])
        == second
    )


def test_files_we_did_not_download_are_never_replaced_or_trusted(file_server, tmp_path):
    import hashlib

    root, url = file_server
    torch.save({'w': torch.ones(3)}, root / 'w.pth')
    out = tmp_path / 'checkpoints'
    out.mkdir()
    (out / 'w.pth').write_bytes(b'my own file')
    with pytest.raises(CheckpointFileError, match='not downloaded by mmtokenmix.*left alone'):
        download_checkpoint(f'{url}/w.pth', cache_dir=str(out))
    assert (out / 'w.pth').read_bytes() == b'my own file'
    # a file of ours changed since its download is downloaded again
    served = (root / 'w.pth').read_bytes()
    (out / 'w.pth').unlink()
    path = download_checkpoint(f'{url}/w.pth', cache_dir=str(out))
    with open(path, 'r+b') as f:
        f.write(b'XX')
    download_checkpoint(f'{url}/w.pth', cache_dir=str(out))
    assert (out / 'w.pth').read_bytes() == served
    # the same bytes put there by hand are used when a checksum verifies them
    os.remove(str(out / 'w.pth') + '.source.json')
    digest = hashlib.sha256(served).hexdigest()
    assert download_checkpoint(f'{url}/w.pth', cache_dir=str(out), sha256=digest) == path


@pytest.mark.parametrize('bad', ['', '  ', 'xyz', 'abc123', 'g' * 64, 'a' * 65])
def test_an_empty_or_malformed_sha256_is_an_error(file_server, tmp_path, bad):
    root, url = file_server
    torch.save({'w': torch.ones(3)}, root / 'w.pth')
    cache = tmp_path / 'cache'
    with pytest.raises(CheckpointFileError, match='8 to 64 hex digits'):
        download_checkpoint(f'{url}/w.pth', cache_dir=str(cache), sha256=bad)
    assert not cache.exists()


def test_downloads_get_the_permissions_of_a_new_file(file_server, tmp_path):
    root, url = file_server
    torch.save({'w': torch.ones(3)}, root / 'w.pth')
    old = os.umask(0o022)
    try:
        path = download_checkpoint(f'{url}/w.pth', cache_dir=str(tmp_path / 'cache'))
    finally:
        os.umask(old)
    assert os.stat(path).st_mode & 0o777 == 0o644
