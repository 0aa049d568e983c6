"""Reading and writing checkpoint files safely.

* :func:`load_checkpoint_file` is the one way the package and its tools read a checkpoint. It
  unpickles with ``torch.load(weights_only=True)``: tensors, containers, numbers and strings,
  plus the short allow-list :data:`ALLOWED_DATA_TYPES` of data-only types that resume and
  training checkpoints hold (NumPy arrays/scalars, timm's saved ``argparse.Namespace``).
  Nothing a file names can run. A legacy file that needs full unpickling is refused with a message naming what it asks
  for; the caller may opt in per call (``allow_unsafe=True``; the tools' ``--allow-unsafe-load
  PATH``) for a file whose source it trusts.
* Importing this module makes mmengine's ``CheckpointLoader`` (used by ``load_from``,
  ``--resume`` and every stock mmdet/mmseg tool once a config imports mmtokenmix) read local
  files and http(s) URLs through the same function, and refuse the other schemes.
* URLs are downloaded (only when a config or command names one) with connect/read timeouts,
  into torch's hub cache, verified against the SHA-256 prefix when the file name carries one
  (``name-<hex>.pth``, torch hub's convention), and renamed into place only when complete.
* :func:`atomic_save` / :func:`atomic_write_text` write to a temporary file in the same folder,
  flush it to disk, then rename it over the target: a kill at any moment leaves either the old
  file or the new one, never a partial file.
"""
import argparse
import hashlib
import io
import os
import os.path as osp
import pickle
import re
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from contextlib import contextmanager
from typing import Iterable, Optional, Set

import numpy as np
import torch



class CheckpointFileError(RuntimeError):
    """A checkpoint file cannot be read: missing, not a checkpoint, corrupt, unsafe to
    unpickle, or not downloadable. The message names the file."""


def _numpy_types() -> list:
    """What NumPy arrays, scalars and the legacy RNG state pickle as (NumPy 1.x and 2.x)."""
    try:
        from numpy._core import multiarray
    except ImportError:  # NumPy 1.x
        from numpy.core import multiarray
    dtype_classes = [getattr(np.dtypes, name) for name in dir(np.dtypes)
                     if name.endswith('DType')] if hasattr(np, 'dtypes') else []
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, *dtype_classes]


# data-only types that checkpoints carry besides tensors: NumPy arrays and scalars (mmengine's
# resume checkpoints: logs, meta, RNG states) and the run's argparse.Namespace (timm training
# checkpoints). mmengine's HistoryBuffer is not here: it pickles references to its methods;
# CrashSafeCheckpointHook stores it as plain arrays instead.
ALLOWED_DATA_TYPES = [*_numpy_types(), argparse.Namespace]

# allow_unsafe opt-ins made by tools for one named file (see trust_file_for_unpickling)
_TRUSTED_FILES: Set[str] = set()


def trust_file_for_unpickling(paths: Iterable[str]) -> None:
    """Let mmengine's loaders fully unpickle exactly these local files (a tool's
    ``--allow-unsafe-load PATH``); every other file stays weights-only."""
    _TRUSTED_FILES.update(osp.realpath(osp.expanduser(p)) for p in paths)


def _describe(path: str) -> str:
    try:
        return f'{path!r} ({os.path.getsize(path)} bytes)'
    except OSError:
        return repr(path)


def _check_is_torch_file(path: str) -> None:
    """Refuse files that are not torch.save output by their first bytes (a zip archive, or a
    legacy pickle), before unpickling anything."""
    with open(path, 'rb') as f:
        head = f.read(4)
    if head[:1] == b'\x80':  # a pickle protocol header: legacy (pre-1.6) torch.save
        return
    if head == b'PK\x03\x04':
        if not zipfile.is_zipfile(path):
            raise CheckpointFileError(
                f'checkpoint {_describe(path)} is a truncated or damaged zip archive (no '
                'central directory): it was probably not completely written or downloaded')
        return
    raise CheckpointFileError(
        f'{_describe(path)} is not a PyTorch checkpoint: it starts with {head!r}, not with a '
        'zip archive or pickle header as torch.save writes them')


def _unsafe_message(path: str, error: Exception) -> str:
    found = re.search(r'GLOBAL (\S+)', str(error))
    asks = f'it asks to run or build {found.group(1)!r}' if found else f'({error})'
    return (f'refusing to fully unpickle checkpoint {path!r}: {asks}, which is not a tensor, '
            'container or number. Full unpickling runs whatever code the file names, so it is '
            'only safe for files from a source you trust. If you trust it, load it with '
            f'--allow-unsafe-load {path} (Python: load_checkpoint_file(..., allow_unsafe=True)) '
            'and save its weights again (torch.save of the state dict), which gives a safe '
            'file.')


def _download_hint(path: str) -> str:
    from .official import official_checkpoint_for_path
    entry = official_checkpoint_for_path(path)
    if entry is None:
        return ''
    return (f'; it is a released file: python tools/misc/download_weights.py {entry.name} '
            f'fetches it ({entry.url})')


def load_checkpoint_file(path: str, map_location: str = 'cpu',
                         allow_unsafe: bool = False) -> dict:
    """Read a checkpoint: a local path, or an ``http(s)://`` URL (downloaded once, see
    :func:`download_checkpoint`). Weights-only unpickling unless ``allow_unsafe``; every
    failure is a :class:`CheckpointFileError` naming the file."""
    if re.match(r'https?://', path):
        path = download_checkpoint(path)
    elif '://' in path:
        raise CheckpointFileError(
            f'cannot load {path!r}: mmtokenmix reads local files and http(s) URLs only; '
            'download the file and give its local path')
    path = osp.expanduser(path)
    if not osp.isfile(path):
        raise CheckpointFileError(f'checkpoint file {path!r} not found{_download_hint(path)}')
    _check_is_torch_file(path)
    try:
        if allow_unsafe:
            return torch.load(path, map_location=map_location, weights_only=False)
        with torch.serialization.safe_globals(ALLOWED_DATA_TYPES):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as e:
        if 'weights_only' in str(e) or 'Unsupported global' in str(e):
            raise CheckpointFileError(_unsafe_message(path, e)) from None
        raise CheckpointFileError(f'cannot unpickle checkpoint {_describe(path)}: {e}') from e
    except CheckpointFileError:
        raise
    except Exception as e:  # truncated archives, bad pickles: torch's messages omit the file
        raise CheckpointFileError(
            f'cannot read checkpoint {_describe(path)}: {type(e).__name__}: {e}. The file '
            'may be truncated or corrupt') from e


# ---- downloads ------------------------------------------------------------------------------
DEFAULT_TIMEOUT_S = 60.0
_HASH_IN_NAME = re.compile(r'-([a-f0-9]{8,64})\.')  # torch hub: resnet18-f37072fd.pth


def download_timeout() -> float:
    """Seconds a download may wait to connect or for the next bytes
    (``MMTOKENMIX_DOWNLOAD_TIMEOUT``, default 60)."""
    return float(os.environ.get('MMTOKENMIX_DOWNLOAD_TIMEOUT', DEFAULT_TIMEOUT_S))


def download_checkpoint(url: str, cache_dir: Optional[str] = None,
                        timeout: Optional[float] = None, sha256: Optional[str] = None,
                        file_name: Optional[str] = None) -> str:
    """The local path of ``url`` in ``cache_dir`` (default: torch hub's checkpoints folder),
    downloading it first if it is not there. ``sha256`` (the full hex digest or a prefix)
    defaults to the prefix the file name carries, if any; ``file_name`` defaults to the URL's.
    A server that does not answer within ``timeout`` seconds (connect or read), an HTTP error
    or a checksum mismatch raises :class:`CheckpointFileError`; only a complete, verified file
    is ever put in the cache."""
    cache_dir = cache_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    timeout = download_timeout() if timeout is None else timeout
    name = file_name or osp.basename(urllib.parse.urlparse(url).path) or 'checkpoint.pth'
    target = osp.join(cache_dir, name)
    if sha256 is None:
        in_name = _HASH_IN_NAME.search(name)
        sha256, where = (in_name.group(1), 'from the file name') if in_name else (None, '')
    else:
        sha256, where = sha256.lower(), 'expected'
    if osp.isfile(target):
        if sha256 and not file_sha256(target).startswith(sha256):
            raise CheckpointFileError(
                f'{target} is already there but its SHA-256 {file_sha256(target)[:16]}... does '
                f'not start with {sha256!r} ({where}): remove it and download again')
        return target
    os.makedirs(cache_dir, exist_ok=True)
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, \
                _atomic_file(target, 'wb') as f:
            for chunk in iter(lambda: response.read(1 << 20), b''):
                digest.update(chunk)
                f.write(chunk)
            if sha256 and not digest.hexdigest().startswith(sha256):
                raise CheckpointFileError(
                    f'download of {url} is corrupt or not the expected file: its SHA-256 '
                    f'{digest.hexdigest()[:16]}... does not start with {sha256!r} ({where}); '
                    'nothing was saved')
    except (socket.timeout, TimeoutError) as e:
        raise CheckpointFileError(
            f'download of {url} timed out: no answer within {timeout:g} s ({e}); set '
            'MMTOKENMIX_DOWNLOAD_TIMEOUT to wait longer, or download the file yourself and '
            'give its local path') from None
    except urllib.error.URLError as e:
        raise CheckpointFileError(f'cannot download {url}: {e}') from None
    return target


def file_sha256(path: str) -> str:
    """The SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


# ---- atomic writes --------------------------------------------------------------------------
@contextmanager
def _atomic_file(path: str, mode: str):
    """Open a temporary file next to ``path``; on success flush it to disk and rename it to
    ``path``; on any error (or kill) ``path`` is untouched and the temporary file removed
    (a kill may leave a ``.tmp`` file behind, never a partial ``path``)."""
    folder = osp.dirname(osp.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=folder)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


def atomic_save(obj, path: str) -> None:
    """``torch.save(obj, path)`` that never leaves a partial ``path``."""
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    with _atomic_file(path, 'wb') as f:
        f.write(buffer.getbuffer())


def atomic_write_text(path: str, text: str) -> None:
    with _atomic_file(path, 'w') as f:
        f.write(text)


def replace_atomically(src: str, dst: str) -> None:
    """Flush ``src`` to disk, then rename it to ``dst`` (same folder)."""
    with open(src, 'rb') as f:
        os.fsync(f.fileno())
    os.replace(src, dst)


# ---- mmengine's loaders (mmengine logs name[10:], hence the load_from_ names) ---------------
def load_from_local_weights_only(filename, map_location=None):
    path = osp.realpath(osp.expanduser(filename))
    return load_checkpoint_file(filename, map_location or 'cpu',
                                allow_unsafe=path in _TRUSTED_FILES)


def load_from_url_weights_only(filename, map_location=None):
    return load_checkpoint_file(filename, map_location or 'cpu')


def load_from_unsupported_scheme(filename, map_location=None):
    raise CheckpointFileError(
        f'cannot load {filename!r}: with mmtokenmix imported, checkpoints are read from local '
        'files and http(s) URLs only (weights-only); download the file and give its path')


def install_safe_mmengine_loaders() -> None:
    """Route mmengine's ``CheckpointLoader`` through :func:`load_checkpoint_file`."""
    from mmengine.runner.checkpoint import CheckpointLoader
    CheckpointLoader.register_scheme('', load_from_local_weights_only, force=True)
    CheckpointLoader.register_scheme(('http://', 'https://'), load_from_url_weights_only,
                                     force=True)
    others = [p for p in CheckpointLoader._schemes if p not in ('', 'http://', 'https://')]
    CheckpointLoader.register_scheme(others, load_from_unsupported_scheme, force=True)
