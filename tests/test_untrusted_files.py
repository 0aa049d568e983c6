"""Files from anyone: no code from a pickle or TorchScript payload runs on any load path, NumPy
objects in a checkpoint cannot exhaust memory or crash the interpreter, the per-file opt-in
works where the refusal says it does (and only for that file), and the tools delete only the
temporary files they wrote."""

import errno
import json
import os
import os.path as osp
import shutil
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch
from conftest import REPO, load_tool, run_tool
from payloads import PAYLOADS, pickle_payload, torchscript_payload

from mmtokenmix.checkpoints import CheckpointFileError, load_checkpoint_file

REFUSAL = {'pickle': "refusing to fully unpickle", 'torchscript': 'is a TorchScript archive'}
DET_CONFIG = osp.join(REPO, 'configs', 'retinanet_transxnet_t_toy.py')
SEG_CONFIG = osp.join(REPO, 'configs', 'segformer_transxnet_t_toy.py')


def _stock_tool(package, name):
    import importlib

    return osp.join(osp.dirname(importlib.import_module(package).__file__), '.mim', 'tools', name)


@pytest.fixture(params=sorted(PAYLOADS))
def payload(request, tmp_path):
    """(kind, path of a hostile checkpoint, marker file it would create)"""
    marker = tmp_path / f'marker_{request.param}'
    return request.param, PAYLOADS[request.param](tmp_path / 'evil.pth', marker), marker


# ---- in-process paths -----------------------------------------------------------------------
def test_the_safe_reader_refuses_both_payloads(payload):
    kind, path, marker = payload
    with pytest.raises(CheckpointFileError, match=REFUSAL[kind]) as error:
        load_checkpoint_file(path)
    assert 'evil.pth' in str(error.value)
    assert not marker.exists()


def test_backbone_init_cfg_and_mmengine_loader_refuse_both_payloads(payload):
    """init_cfg=dict(type='Pretrained'), and mmengine's CheckpointLoader, which load_from,
    --resume, the stock mmdet/mmseg tools and mmdet's/mmseg's init_model use."""
    from mmengine.runner.checkpoint import _load_checkpoint

    from mmtokenmix.models import TransXNet

    kind, path, marker = payload
    model = TransXNet('t', init_cfg=dict(type='Pretrained', checkpoint=path))
    with pytest.raises(CheckpointFileError, match=REFUSAL[kind]):
        model.init_weights()
    with pytest.raises(CheckpointFileError, match=REFUSAL[kind]):
        _load_checkpoint(path)
    assert not marker.exists()


def test_timm_checkpoint_path_refuses_both_payloads(payload):
    import timm

    import mmtokenmix.models  # noqa: F401

    kind, path, marker = payload
    with pytest.raises(CheckpointFileError, match=REFUSAL[kind]):
        timm.create_model('transxnet_t', checkpoint_path=path)
    with pytest.raises(CheckpointFileError, match=REFUSAL[kind]):  # the features-only wrapper
        timm.create_model('dfformer_s18', features_only=True, checkpoint_path=path)
    assert not marker.exists()


def test_timm_checkpoint_path_of_other_models_is_timms_own(tmp_path):
    import timm

    import mmtokenmix.models  # noqa: F401

    model = timm.create_model('resnet18', num_classes=3)
    torch.save({'state_dict_ema': model.state_dict(), 'state_dict': {}}, tmp_path / 'r.pth')
    loaded = timm.create_model('resnet18', num_classes=3, checkpoint_path=str(tmp_path / 'r.pth'))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in loaded.state_dict().items())


def test_a_url_payload_is_refused_and_deleted_from_the_cache(
    payload, file_server, tmp_path, monkeypatch
):
    from mmengine.runner.checkpoint import CheckpointLoader

    kind, path, marker = payload
    root, url = file_server
    shutil.copy(path, root / 'weights.pth')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    for load in (load_checkpoint_file, CheckpointLoader.load_checkpoint):  # load_from=URL
        with pytest.raises(CheckpointFileError, match=REFUSAL[kind]):
            load(f'{url}/weights.pth')
    assert not marker.exists()
    cache = tmp_path / 'torch_home'
    left = [f for _, _, files in os.walk(cache) for f in files] if cache.exists() else []
    assert left == []


def test_the_opt_in_never_reads_torchscript_and_never_leaks(tmp_path):
    from mmtokenmix.checkpoints import trust_file_for_unpickling

    archive = torchscript_payload(tmp_path / 'trusted_ts.pt', tmp_path / 'marker_ts')
    trust_file_for_unpickling([archive])
    with pytest.raises(CheckpointFileError, match='TorchScript'):
        load_checkpoint_file(archive)
    assert not (tmp_path / 'marker_ts').exists()
    trusted = pickle_payload(tmp_path / 'trusted.pth', tmp_path / 'marker_trusted')
    other = pickle_payload(tmp_path / 'other.pth', tmp_path / 'marker_other')
    os.symlink(other, tmp_path / 'link_to_other.pth')
    trust_file_for_unpickling([trusted])
    for untrusted in (other, str(tmp_path / 'link_to_other.pth')):
        with pytest.raises(CheckpointFileError, match='refusing to fully unpickle'):
            load_checkpoint_file(untrusted)
    assert not (tmp_path / 'marker_other').exists()
    load_checkpoint_file(trusted)  # the opted-in file is fully unpickled, as asked
    assert (tmp_path / 'marker_trusted').exists()


def test_zip_archives_that_torch_save_does_not_write_are_refused(tmp_path):
    import zipfile

    torch.save({'w': torch.ones(2)}, tmp_path / 'good.pth')
    with (
        zipfile.ZipFile(tmp_path / 'good.pth') as src,
        zipfile.ZipFile(tmp_path / 'extra.pth', 'w') as dst,
    ):
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr('good/extra/notes.txt', 'hello')
    with pytest.raises(CheckpointFileError, match=r"not one torch\.save writes.*extra/notes"):
        load_checkpoint_file(str(tmp_path / 'extra.pth'))
    assert torch.equal(load_checkpoint_file(str(tmp_path / 'good.pth'))['w'], torch.ones(2))


# ---- the tools, each as a user runs it (one process per payload, every tool in turn) -------
TOOL_RUNS = r'''
import json, os, runpy, sys
marker, cases = sys.argv[1], json.loads(sys.argv[2])
results = []
for name, argv in cases:
    sys.argv = list(argv)
    try:
        runpy.run_path(argv[0], run_name='__main__')
        outcome = 'finished'
    except SystemExit as e:
        outcome = f'SystemExit: {e.code}'
    except BaseException as e:
        outcome = f'{type(e).__name__}: {e}'
    results.append([name, outcome, os.path.exists(marker)])
print('RESULTS ' + json.dumps(results))
'''


@pytest.mark.slow
def test_every_tool_refuses_both_payloads(payload, toy_workdir, tmp_path):
    kind, path, marker = payload
    work = str(tmp_path / 'work')
    image = str(next((toy_workdir / 'data' / 'toy' / 'images' / 'val').iterdir()))
    converters = osp.join(REPO, 'tools', 'model_converters')
    cases = [
        ('tools/test.py', [osp.join(REPO, 'tools/test.py'), DET_CONFIG, path, '--work-dir', work]),
        (
            'tools/train.py --resume',
            [osp.join(REPO, 'tools/train.py'), DET_CONFIG, '--resume', path, '--work-dir', work],
        ),
        (
            'tools/train.py load_from',
            [
                osp.join(REPO, 'tools/train.py'),
                DET_CONFIG,
                '--work-dir',
                work,
                '--cfg-options',
                f'load_from={path}',
            ],
        ),
        (
            'tools/train.py backbone init_cfg',
            [
                osp.join(REPO, 'tools/train.py'),
                SEG_CONFIG,
                '--work-dir',
                work,
                '--cfg-options',
                f'model.backbone.init_cfg.checkpoint={path}',
            ],
        ),
        (
            'demo',
            [
                osp.join(REPO, 'demo/image_demo.py'),
                image,
                DET_CONFIG,
                path,
                '--out-dir',
                str(tmp_path / 'demo'),
            ],
        ),
        (
            'onnx export',
            [
                osp.join(REPO, 'tools/deployment/pytorch2onnx.py'),
                DET_CONFIG,
                '--checkpoint',
                path,
                '--out',
                str(tmp_path / 'x.onnx'),
            ],
        ),
        (
            'transxnet converter',
            [osp.join(converters, 'transxnet2mmtokenmix.py'), path, str(tmp_path / 'out1.pth')],
        ),
        (
            'dfformer converter',
            [osp.join(converters, 'dfformer2mmtokenmix.py'), path, str(tmp_path / 'out2.pth')],
        ),
        (
            'mmdet tools/test.py',
            [_stock_tool('mmdet', 'test.py'), DET_CONFIG, path, '--work-dir', work],
        ),
        (
            'mmdet tools/train.py --resume',
            [_stock_tool('mmdet', 'train.py'), DET_CONFIG, '--resume', path, '--work-dir', work],
        ),
        (
            'mmseg tools/test.py',
            [_stock_tool('mmseg', 'test.py'), SEG_CONFIG, path, '--work-dir', work],
        ),
        (
            'mmseg tools/train.py --resume',
            [
                _stock_tool('mmseg', 'train.py'),
                SEG_CONFIG,
                '--resume',
                '--work-dir',
                work,
                '--cfg-options',
                f'load_from={path}',
            ],
        ),
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONUNBUFFERED='1')
    proc = subprocess.run(
        [sys.executable, '-c', TOOL_RUNS, str(marker), json.dumps(cases)],
        cwd=toy_workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith('RESULTS ')]
    assert lines, proc.stdout[-3000:] + proc.stderr[-6000:]
    results = json.loads(lines[-1][len('RESULTS ') :])
    assert [name for name, _, _ in results] == [name for name, _ in cases]
    for name, outcome, marker_written in results:
        assert not marker_written, f'{name}: the payload ran ({outcome})'
        assert REFUSAL[kind] in outcome and 'evil.pth' in outcome, f'{name}: {outcome}'
    assert not marker.exists()
    assert not (tmp_path / 'out1.pth').exists() and not (tmp_path / 'x.onnx').exists()
    # mim test: mmdet's tools/test.py in a process of its own, from mim's command line
    proc = subprocess.run(
        [
            shutil.which('mim'),
            'test',
            'mmdet',
            DET_CONFIG,
            '--checkpoint',
            path,
            '--work-dir',
            work,
        ],
        cwd=toy_workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode != 0 and REFUSAL[kind] in proc.stdout + proc.stderr
    assert not marker.exists()


# ---- NumPy objects in a checkpoint ----------------------------------------------------------
NUMPY_BOMBS = r'''
import sys
import numpy as np, torch
try:
    from numpy._core import multiarray
except ImportError:
    from numpy.core import multiarray

class Reduce:
    def __init__(self, *reduced):
        self.reduced = reduced
    def __reduce__(self):
        return self.reduced

big = 300_000_000
bombs = {
    # 2.4 GB of object pointers from a 1 kB file
    'object array': Reduce(multiarray._reconstruct, (np.ndarray, (big,), np.dtype('O'))),
    'huge float array': Reduce(multiarray._reconstruct, (np.ndarray, (big,), np.dtype('f8'))),
    # a segmentation fault in NumPy 2.1
    'object state': Reduce(multiarray._reconstruct, (np.ndarray, (0,), b'b'),
                           (1, (big,), np.dtype('O'), False, [])),
    'short data': Reduce(multiarray._reconstruct, (np.ndarray, (0,), b'b'),
                         (1, (big,), np.dtype('f8'), False, b'abc')),
    'ndarray(shape)': Reduce(np.ndarray, ((big,),)),
    'object scalar': Reduce(multiarray.scalar, (np.dtype('O'), 'x')),
}
for name, bomb in bombs.items():
    torch.save({'meta': bomb}, f'{sys.argv[1]}/{name}.pth')
'''


@pytest.mark.parametrize(
    'name',
    [
        'object array',
        'huge float array',
        'object state',
        'short data',
        'ndarray(shape)',
        'object scalar',
    ],
)
def test_numpy_objects_that_allocate_or_crash_are_refused(name, tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / 'numpy_bombs'
    if not folder.exists():
        folder.mkdir()
        subprocess.run([sys.executable, '-c', NUMPY_BOMBS, str(folder)], check=True)
    path = folder / f'{name}.pth'
    assert path.stat().st_size < 2000
    # in a process of its own with 1 GB of address space above what it starts with: the old
    # reader allocated gigabytes or crashed here
    probe = (
        'import resource, sys\n'
        'from mmtokenmix.checkpoints import load_checkpoint_file, CheckpointFileError\n'
        'import numpy\n'
        'used = int(open("/proc/self/statm").read().split()[0]) * resource.getpagesize()\n'
        'resource.setrlimit(resource.RLIMIT_AS, (used + 2**30, resource.RLIM_INFINITY))\n'
        'try:\n'
        '    load_checkpoint_file(sys.argv[1])\n'
        '    print("LOADED")\n'
        'except CheckpointFileError as e:\n'
        '    print("REFUSED", e)\n'
    )
    proc = subprocess.run(
        [sys.executable, '-c', probe, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
    )
    assert proc.returncode == 0, f'exit {proc.returncode}: {proc.stderr[-2000:]}'
    # refused for what it builds, before it allocates (not a MemoryError under the limit)
    assert proc.stdout.startswith('REFUSED') and str(path) in proc.stdout, proc.stdout
    assert 'refusing a NumPy object the file builds' in proc.stdout, proc.stdout


def test_numpy_data_of_real_checkpoints_round_trips(tmp_path):
    import argparse

    meta = dict(
        log=np.arange(5.0),
        scalar=np.float32(2.5),
        rng=np.random.get_state(),
        fortran=np.asfortranarray(np.arange(6).reshape(2, 3)),
        strings=np.array(['ab', 'c']),
        flags=np.array([True, False]),
        args=argparse.Namespace(lr=0.1, sizes=np.array([224, 256])),
    )
    torch.save({'state_dict': {'w': torch.ones(2)}, 'meta': meta}, tmp_path / 'ckpt.pth')
    loaded = load_checkpoint_file(str(tmp_path / 'ckpt.pth'))['meta']
    for key in ('log', 'fortran', 'strings', 'flags'):
        assert type(loaded[key]) is np.ndarray and loaded[key].dtype == meta[key].dtype
        assert np.array_equal(loaded[key], meta[key]), key
    assert loaded['fortran'].flags['F_CONTIGUOUS']
    assert type(loaded['scalar']) is np.float32 and loaded['scalar'] == 2.5
    assert loaded['rng'][0] == 'MT19937' and np.array_equal(loaded['rng'][1], meta['rng'][1])
    np.random.set_state(loaded['rng'])  # usable as an RNG state
    assert np.array_equal(loaded['args'].sizes, [224, 256]) and loaded['args'].lr == 0.1


# ---- the opt-in on the tools, and resuming a stock CheckpointHook run -----------------------
@pytest.mark.slow
def test_allow_unsafe_load_resumes_a_stock_checkpoint_hook_run(toy_workdir, tmp_path):
    """A run saved by mmengine's own CheckpointHook (it pickles HistoryBuffer objects) is
    refused weights-only; --allow-unsafe-load for exactly that file resumes it, and starting
    the resumed run removes only the package's own temporary files."""
    work = tmp_path / 'work'
    short = ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=8', 'train_cfg.val_interval=9']
    train = [sys.executable, osp.join(REPO, 'tools', 'train.py'), DET_CONFIG, '--work-dir', work]
    run_tool(
        train + ['--cfg-options', *short, 'default_hooks.checkpoint.type=CheckpointHook'],
        cwd=toy_workdir,
        env={'OMP_NUM_THREADS': '1'},
    )
    ckpt = str(work / 'epoch_1.pth')
    longer = [
        '--cfg-options',
        'train_cfg.max_epochs=2',
        'train_dataloader.batch_size=8',
        'train_cfg.val_interval=9',
    ]
    env = dict(os.environ, OMP_NUM_THREADS='1')
    refused = subprocess.run(
        train + ['--resume', ckpt, *longer],
        cwd=toy_workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert refused.returncode != 0
    out = refused.stdout + refused.stderr
    assert 'refusing to fully unpickle' in out and 'HistoryBuffer' in out
    assert f'--allow-unsafe-load {ckpt}' in out
    # the opt-in of another file does not apply to this one
    other = tmp_path / 'other.pth'
    other.write_bytes(b'')
    refused = subprocess.run(
        train + ['--resume', ckpt, '--allow-unsafe-load', str(other), *longer],
        cwd=toy_workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert refused.returncode != 0 and 'refusing to fully unpickle' in refused.stderr
    # users' hidden .tmp files survive the start of training; ours (killed saves) do not
    for name in ('.notes.tmp', '.thesis.tex.tmp', '.epoch_1.pth.tmp'):
        (work / name).write_text('mine')
    (work / '.epoch_7.pth.mmtokenmix.tmp').write_text('half a checkpoint')
    out = run_tool(
        train + ['--resume', ckpt, '--allow-unsafe-load', ckpt, *longer],
        cwd=toy_workdir,
        env={'OMP_NUM_THREADS': '1'},
    )
    assert 'resumed epoch: 1' in out and 'Epoch(train) [2][2/2]' in out
    assert (work / 'epoch_2.pth').is_file()
    for name in ('.notes.tmp', '.thesis.tex.tmp', '.epoch_1.pth.tmp'):
        assert (work / name).read_text() == 'mine', name
    assert not (work / '.epoch_7.pth.mmtokenmix.tmp').exists()


def test_a_failed_checkpoint_write_removes_its_temporary_file(tmp_path):
    from mmtokenmix.engine.hooks import CrashSafeCheckpointHook

    class DiskFull:
        def save_checkpoint(self, out_dir, filename, *args, **kwargs):
            with open(osp.join(out_dir, filename), 'wb') as f:
                f.write(b'half')
            raise OSError(errno.ENOSPC, 'No space left on device')

    hook = CrashSafeCheckpointHook()
    hook._out_dir_is_local = True
    runner = DiskFull()
    with pytest.raises(OSError, match='No space left'):
        with hook._atomic_runner_saves(runner):
            runner.save_checkpoint(str(tmp_path), 'epoch_3.pth')
    assert os.listdir(tmp_path) == []


def test_atomic_writes_get_the_permissions_of_a_new_file(tmp_path):
    from mmtokenmix.checkpoints import atomic_save

    old = os.umask(0o022)
    try:
        atomic_save({'w': torch.ones(1)}, str(tmp_path / 'converted.pth'))
    finally:
        os.umask(old)
    assert (tmp_path / 'converted.pth').stat().st_mode & 0o777 == 0o644


# ---- --resume without a file ----------------------------------------------------------------
def test_resume_needs_a_usable_last_checkpoint_when_checkpoints_exist(tmp_path):
    from mmtokenmix.runtime import checkpoint_to_resume

    assert checkpoint_to_resume(str(tmp_path)) is None  # nothing there: a new run
    torch.save({}, tmp_path / 'epoch_1.pth')
    torch.save({}, tmp_path / 'epoch_2.pth')
    with pytest.raises(ValueError, match=r'epoch_1\.pth, epoch_2\.pth.*no last_checkpoint'):
        checkpoint_to_resume(str(tmp_path))
    (tmp_path / 'last_checkpoint').write_text('')
    with pytest.raises(ValueError, match='last_checkpoint is empty') as error:
        checkpoint_to_resume(str(tmp_path))
    assert 'released file' not in str(error.value)
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_9.pth'))
    with pytest.raises(ValueError, match=r'names .*epoch_9\.pth.*does not exist'):
        checkpoint_to_resume(str(tmp_path))
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth') + '\n')
    assert checkpoint_to_resume(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')


@pytest.mark.slow
def test_train_resume_refuses_checkpoints_without_last_checkpoint(toy_workdir, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    torch.save({}, work / 'epoch_3.pth')
    proc = subprocess.run(
        [
            sys.executable,
            osp.join(REPO, 'tools', 'train.py'),
            DET_CONFIG,
            '--resume',
            '--work-dir',
            work,
        ],
        cwd=toy_workdir,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, OMP_NUM_THREADS='1'),
    )
    assert proc.returncode != 0 and 'epoch_3.pth' in proc.stderr
    assert 'no last_checkpoint' in proc.stderr and 'Epoch(train)' not in proc.stdout
    assert os.listdir(work) == ['epoch_3.pth']


# ---- other bad input ------------------------------------------------------------------------
def test_a_directory_and_an_empty_path_are_named_as_such(tmp_path):
    with pytest.raises(CheckpointFileError, match='is a directory, not a file'):
        load_checkpoint_file(str(tmp_path))
    with pytest.raises(CheckpointFileError, match='non-empty string'):
        load_checkpoint_file('')


def test_init_cfg_given_as_a_path_gets_a_clear_error():
    from mmtokenmix.models import DFFormer, TransXNet

    with pytest.raises(
        TypeError,
        match=r"init_cfg=dict\(type='Pretrained', "
        r"checkpoint='w\.pth'\)",
    ):
        TransXNet('t', init_cfg='w.pth')
    with pytest.raises(ValueError, match="needs checkpoint="):
        DFFormer('s18', init_cfg=dict(type='Pretrained'))


@pytest.mark.parametrize('rate', [-1, 1.5, 1.0, float('nan'), '0.1'])
def test_every_backbone_refuses_a_drop_path_rate_outside_0_1(rate):
    from mmtokenmix.models import CDFFormer, DFFormer, DMFormer, TransXNet, XFormer

    for cls, arch in (
        (TransXNet, 't'),
        (DFFormer, 's18'),
        (CDFFormer, 's18'),
        (DMFormer, 's'),
        (XFormer, 's'),
    ):
        with pytest.raises(ValueError, match=r'drop_path_rate must be a number in \[0, 1\)'):
            cls(arch, drop_path_rate=rate)


def test_input_of_another_dtype_is_named_and_double_models_run():
    from mmtokenmix.models import DFFormer, TransXNet

    x = torch.randn(1, 3, 64, 64)
    for cls, arch in ((TransXNet, 't'), (DFFormer, 's18')):
        model = cls(arch).eval()
        with pytest.raises(
            TypeError,
            match=r'torch\.float64 input, but its weights are '
            r'torch\.float32',
        ):
            model(x.double())
        with torch.no_grad():
            expected = model(x)
            doubled = model.double()(x.double())
        for a, b in zip(doubled, expected):
            assert a.dtype == torch.float64
            torch.testing.assert_close(a.float(), b, rtol=1e-4, atol=1e-4)


# ---- the inference caches under threads -----------------------------------------------------
@pytest.mark.parametrize('family', ['dfformer', 'transxnet'])
def test_one_model_serves_several_threads_with_mixed_sizes(family):
    from mmtokenmix.models import DFFormer, TransXNet, fast_paths, fast_paths_enabled

    torch.manual_seed(0)
    model = (DFFormer('s18') if family == 'dfformer' else TransXNet('t')).eval()
    for p in model.parameters():  # non-zero position encodings, so that sizes matter
        p.data.add_(torch.randn_like(p) * 0.02)
    sizes = [(64, 64), (96, 64), (64, 128), (96, 96)]
    inputs = {s: torch.randn(1, 3, *s) for s in sizes}
    with torch.no_grad(), fast_paths(False):
        expected = {s: model(x) for s, x in inputs.items()}
    errors, switch_seen = [], []
    start, checked = threading.Barrier(4), threading.Barrier(4)

    def serve(offset):
        start.wait()  # while another thread has switched the fast paths off
        switch_seen.append(fast_paths_enabled())
        checked.wait()
        try:
            for i in range(12):
                size = sizes[(i + offset) % len(sizes)]
                with torch.no_grad():
                    out = model(inputs[size])
                for a, b in zip(out, expected[size]):
                    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
        except Exception as e:  # noqa: BLE001 (reported below with the thread's size)
            errors.append(f'{type(e).__name__}: {e}')

    def switch_off_here():
        with fast_paths(False):
            start.wait()
            checked.wait()
            switch_seen.append(fast_paths_enabled())

    threads = [threading.Thread(target=serve, args=(k,)) for k in range(3)]
    threads.append(threading.Thread(target=switch_off_here))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
    assert switch_seen == [True, True, True, False]  # per thread: the others kept theirs
    assert fast_paths_enabled()


# ---- the demo -------------------------------------------------------------------------------
def test_the_demo_names_an_image_it_cannot_read(tmp_path, capsys):
    demo = load_tool('demo/image_demo.py')
    config, checkpoint = tmp_path / 'c.py', tmp_path / 'w.pth'
    config.write_text('')
    torch.save({}, checkpoint)
    (tmp_path / 'empty.jpg').write_bytes(b'')
    (tmp_path / 'notes.png').write_text('not an image')
    for name, problem in (
        ('empty.jpg', 'is empty'),
        ('notes.png', 'is not an image'),
        ('missing.jpg', 'not found'),
    ):
        with pytest.raises(SystemExit):
            demo.parse_args([str(tmp_path / name), str(config), str(checkpoint)])
        assert f"image '{tmp_path / name}' {problem}" in capsys.readouterr().err


def test_the_demo_gives_images_of_the_same_name_their_own_pictures():
    demo = load_tool('demo/image_demo.py')
    assert demo.output_files(['a/x.jpg', 'b/x.png', 'c/y.jpg', 'd/x.jpg'], 'out') == [
        'out/x.png',
        'out/x-2.png',
        'out/y.png',
        'out/x-3.png',
    ]
