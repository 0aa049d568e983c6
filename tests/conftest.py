import http.server
import importlib.util
import os
import os.path as osp
import socket
import subprocess
import threading

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def load_tool(relpath: str):
    """A script under tools/ as a module (tools/ is not a package), e.g.
    ``load_tool('tools/misc/check_dataset.py')``."""
    name = osp.splitext(osp.basename(relpath))[0]
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if os.environ.get('PYTEST_XDIST_WORKER'):
    # several test processes share the cores: one thread each (and in the tools they start),
    # or 2 workers x 2 threads oversubscribe 2 cores
    os.environ['OMP_NUM_THREADS'] = '1'
    import torch

    torch.set_num_threads(1)


@pytest.fixture(scope='session')
def repo_root():
    return REPO


@pytest.fixture(scope='session')
def toy_workdir(tmp_path_factory):
    """A working directory with the toy dataset at ``data/toy`` (as the configs expect)."""
    from mmtokenmix.datasets import make_toy_dataset

    root = tmp_path_factory.mktemp('toy')
    make_toy_dataset(str(root / 'data' / 'toy'), num_train=16, num_val=8, seed=1)
    return root


def seg_batch(num_classes, sizes, seed=0):
    """An mmseg training batch: random uint8 images of ``sizes`` with random label maps."""
    import torch
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for h, w in sizes:
        inputs.append(torch.randint(0, 256, (3, h, w), generator=g, dtype=torch.uint8))
        sample = SegDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=torch.randint(0, num_classes, (1, h, w), generator=g))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def det_batch(with_mask, shapes=((3, 128, 160), (3, 96, 128)), num_items=(2, 1), num_classes=3):
    """An mmdet training batch of random images and boxes (and masks) from mmdet's own
    ``demo_mm_inputs``."""
    from mmdet.testing import demo_mm_inputs

    return demo_mm_inputs(
        len(shapes),
        [list(s) for s in shapes],
        num_items=list(num_items),
        num_classes=num_classes,
        with_mask=with_mask,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def final_metrics(work_dir, *names: str) -> dict:
    """The metrics of the last evaluation in ``work_dir``, read from the JSON files mmengine
    writes there (``<timestamp>/vis_data/scalars.json`` of a training run, ``<timestamp>/
    <timestamp>.json`` of a test run); fails unless every one of ``names`` is a number."""
    import glob
    import json
    import math

    found = []
    for path in sorted(
        glob.glob(osp.join(str(work_dir), '**', '*.json'), recursive=True), key=os.path.getmtime
    ):
        with open(path) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and all(n in record for n in names):
                    found.append(record)
    assert found, f'no metrics {names} in the JSON files under {work_dir}'
    metrics = found[-1]
    for name in names:
        assert isinstance(metrics[name], (int, float)) and math.isfinite(metrics[name]), metrics
    return metrics


def run_tool(args, cwd, timeout=600, env=None):
    """Run a tools/ command like a user does; fail the test with its output if it fails."""
    full_env = dict(os.environ, PYTHONUNBUFFERED='1', **(env or {}))
    proc = subprocess.run(
        args, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        pytest.fail(
            f'{" ".join(map(str, args))} exited {proc.returncode}\n'
            f'--- stdout ---\n{proc.stdout[-6000:]}\n--- stderr ---\n'
            f'{proc.stderr[-6000:]}'
        )
    return proc.stdout + proc.stderr


@pytest.fixture(autouse=True)
def _reset_mmengine_globals():
    """mmengine keeps the default scope, loggers and message hubs process-wide; tests that
    build runners or models in-process must not leak them into each other."""
    yield
    from mmengine.logging import MessageHub, MMLogger
    from mmengine.registry import DefaultScope
    from mmengine.visualization import Visualizer

    for cls in (DefaultScope, MessageHub, MMLogger, Visualizer):
        cls._instance_dict.clear()


# ---- local servers for download tests (never a real host) ------------------------------
@pytest.fixture
def silent_server():
    """A server on 127.0.0.1 that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    sock.listen(8)
    yield f'http://127.0.0.1:{sock.getsockname()[1]}'
    sock.close()


def _serve(root, handler_cls):
    """Serve ``handler_cls`` (quiet) on 127.0.0.1 while the fixture lives; yields
    ``(root, base URL)``."""

    class Quiet(handler_cls):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f'http://127.0.0.1:{server.server_address[1]}'
    server.shutdown()


@pytest.fixture
def file_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving the files of ``root`` (yields ``(root, base URL)``)."""
    root = tmp_path / 'served'
    root.mkdir()

    class Files(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

    yield from _serve(root, Files)


@pytest.fixture
def truncating_server(tmp_path):
    """A server on 127.0.0.1 that sends only the first half of the files of ``root`` and then
    closes the connection: under ``/with-length/NAME`` after announcing the full
    Content-Length, under ``/no-length/NAME`` without one (yields ``(root, base URL)``)."""
    root = tmp_path / 'served_halves'
    root.mkdir()

    class Truncating(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            mode, name = self.path.strip('/').split('/', 1)
            data = (root / name).read_bytes()
            self.send_response(200)
            if mode == 'with-length':
                self.send_header('Content-Length', str(len(data)))
            self.send_header('Connection', 'close')
            self.end_headers()
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True

    yield from _serve(root, Truncating)
