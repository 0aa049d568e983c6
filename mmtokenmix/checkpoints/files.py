"""Reading and writing checkpoint files safely.

* :func:`load_checkpoint_file` is the one way the package and its tools read a checkpoint.
  Before torch sees the file it checks that the file is what ``torch.save`` writes: a zip
  archive holding only a pickle and tensor storages (or a legacy pre-1.6 pickle). A TorchScript
  archive (``torch.jit.save``) is refused there, whatever the torch version: torch < 2.6 hands
  one to ``torch.jit.load`` even with ``weights_only=True``, and loading TorchScript runs the
  code it holds. The pickle is then read with ``torch.load(weights_only=True)``: tensors,
  containers, numbers and strings, plus the allow-list of :mod:`.safe_types` (NumPy arrays and
  scalars through bounded constructors, timm's ``argparse.Namespace``). A file that asks for
  anything else is refused with a message naming what it asks for; the caller may opt in for
  one file whose source it trusts (``allow_unsafe=True``, or the tools' ``--allow-unsafe-load
  PATH``, which marks that path with :func:`trust_file_for_unpickling`).
* Importing this module makes mmengine's ``CheckpointLoader`` (used by ``load_from``,
  ``--resume``, ``init_cfg`` and every stock mmdet/mmseg tool once a config imports
  mmtokenmix) read local files, http(s) URLs and every scheme mmengine knows
  (``torchvision://``, ``open-mmlab://``, ``mmcls://``, ``s3://``, ... resolved as mmengine
  resolves them, see :mod:`.schemes`) through the same function: what changes for the rest of
  the process is only that loading never runs code.
* URLs are fetched by :mod:`.downloads` (complete and verified, or not at all).
* :func:`atomic_save` / :func:`atomic_write_text` write to a temporary file in the same folder
  (named ``.<name>.<random>.mmtokenmix.tmp``), flush it to disk, then rename it over the target:
  a kill at any moment leaves either the old file or the new one, never a partial file.
"""

import hashlib
import io
import os
import os.path as osp
import pickle
import re
import tempfile
import zipfile
from contextlib import contextmanager
from typing import Iterable, Optional, Set

import torch

from .safe_types import allowed_types, materialise_arrays


class CheckpointFileError(RuntimeError):
    """A checkpoint file cannot be read: missing, not a checkpoint, corrupt, unsafe to
    unpickle, or not downloadable. The message names the file."""


class CheckpointNotFoundError(CheckpointFileError, FileNotFoundError):
    """No file at the checkpoint path: also a ``FileNotFoundError``, which is what mmengine's
    own loaders raise there, so code that catches that goes on working with mmtokenmix
    imported."""


# local paths a tool's --allow-unsafe-load PATH opted in (see trust_file_for_unpickling)
_TRUSTED_FILES: Set[str] = set()


def _real(path: str) -> str:
    return osp.realpath(osp.expanduser(path))


def trust_file_for_unpickling(paths: Iterable[str]) -> None:
    """Let :func:`load_checkpoint_file` fully unpickle exactly these local files (a tool's
    ``--allow-unsafe-load PATH``), on every path that reads them (the tools' own checks,
    ``load_from``, ``--resume``, mmengine's loaders); every other file stays weights-only."""
    _TRUSTED_FILES.update(_real(p) for p in paths)


def is_trusted_for_unpickling(path: str) -> bool:
    return _real(path) in _TRUSTED_FILES


def _describe(path: str) -> str:
    try:
        return f'{path!r} ({os.path.getsize(path)} bytes)'
    except OSError:
        return repr(path)


# what torch.save puts in its zip archive (all under one folder, named after the file or
# 'archive'): the pickle, format records and one record per tensor storage
_SAVE_RECORDS = {
    'data.pkl',
    'version',
    '.format_version',
    'byteorder',
    '.data/version',
    '.data/serialization_id',
    '.storage_alignment',
}
_STORAGE_RECORD = re.compile(r'data/\d+$')


def check_checkpoint_archive(f, path: str) -> None:
    """Refuse, from its records and before anything is unpickled, an open file ``f`` that is
    not what ``torch.save`` writes: not a zip archive or legacy pickle, a truncated archive, a
    TorchScript archive, or an archive holding anything besides the pickle and storages.
    Leaves ``f`` at its start."""
    head = f.read(4)
    f.seek(0)
    if head[:1] == b'\x80':  # a pickle protocol header: legacy (pre-1.6) torch.save
        return
    if head != b'PK\x03\x04':
        raise CheckpointFileError(
            f'{_describe(path)} is not a PyTorch checkpoint: it starts with {head!r}, not with '
            'a zip archive or pickle header as torch.save writes them'
        )
    damaged = (
        f'checkpoint {_describe(path)} is a truncated or damaged zip archive: it was '
        'probably not completely written or downloaded'
    )
    if not zipfile.is_zipfile(f):
        raise CheckpointFileError(damaged + ' (no central directory)')
    f.seek(0)
    try:  # torch's own reader: the records exactly as torch.load would see them
        records = torch._C.PyTorchFileReader(f).get_all_records()
    except RuntimeError as e:
        raise CheckpointFileError(f'{damaged} ({e})') from None
    finally:
        f.seek(0)
    if 'constants.pkl' in records or any(r.startswith('code/') for r in records):
        raise CheckpointFileError(
            f'refusing {_describe(path)}: it is a TorchScript archive (torch.jit.save: it holds '
            'code/ and constants.pkl), not a checkpoint. Loading TorchScript runs the code it '
            'contains, so it is never read as weights (not even with --allow-unsafe-load); if '
            'you trust its source, load it with torch.jit.load and torch.save its state_dict()'
        )
    unexpected = sorted(
        r for r in records if r not in _SAVE_RECORDS and not _STORAGE_RECORD.match(r)
    )
    if unexpected or 'data.pkl' not in records:
        what = f'holds {unexpected[:5]}' if unexpected else 'has no data.pkl'
        raise CheckpointFileError(
            f'refusing {_describe(path)}: it is a zip archive but not one torch.save writes '
            f'(it {what}; torch.save writes data.pkl, version/byteorder records and data/<n> '
            'tensor storages)'
        )


def _unsafe_message(path: str, error: Exception) -> str:
    found = re.search(r'GLOBAL (\S+)', str(error))
    asks = f'it asks to run or build {found.group(1)!r}' if found else f'({error})'
    return (
        f'refusing to fully unpickle checkpoint {path!r}: {asks}, which is not a tensor, '
        'container or number. Full unpickling runs whatever code the file names, so it is '
        'only safe for files from a source you trust. If you trust it, load it with '
        f'--allow-unsafe-load {path} (Python: load_checkpoint_file(..., allow_unsafe=True)) '
        'and save its weights again (torch.save of the state dict), which gives a safe '
        'file.'
    )


def _download_hint(path: str) -> str:
    from .official import official_checkpoint_for_path

    entry = official_checkpoint_for_path(path) if osp.basename(path) else None
    if entry is None:
        return ''
    return (
        f'; it is a released file: python tools/misc/download_weights.py {entry.name} '
        f'fetches it ({entry.url})'
    )


def load_checkpoint_file(
    path: str, map_location: str = 'cpu', allow_unsafe: Optional[bool] = None
) -> dict:
    """Read a checkpoint: a local path, an ``http(s)://`` URL (downloaded once, see
    :func:`~mmtokenmix.checkpoints.downloads.download_checkpoint`; a downloaded file that is
    refused is deleted) or a URI of one of mmengine's schemes (:mod:`.schemes`).
    Weights-only unpickling unless ``allow_unsafe`` (default: only for a path given to
    :func:`trust_file_for_unpickling`; never for a URI or a TorchScript archive); every failure
    is a :class:`CheckpointFileError` naming the file."""
    if not isinstance(path, str) or not path:
        raise CheckpointFileError(f'checkpoint path must be a non-empty string, got {path!r}')
    if re.match(r'https?://', path):
        return load_url_weights_only(path, map_location)
    if '://' in path:
        from .schemes import load_from_scheme

        return load_from_scheme(path, map_location)
    path = osp.expanduser(path)
    if osp.isdir(path):
        raise CheckpointFileError(f'checkpoint {path!r} is a directory, not a file')
    if not osp.isfile(path):
        raise CheckpointNotFoundError(f'checkpoint file {path!r} not found{_download_hint(path)}')
    if allow_unsafe is None:
        allow_unsafe = is_trusted_for_unpickling(path)
    return _read_checkpoint(path, map_location, allow_unsafe)


def load_url_weights_only(url: str, map_location='cpu', cache_dir: Optional[str] = None):
    """Download ``url`` (see :func:`~.downloads.download_checkpoint`) and read it weights-only;
    a file we downloaded that is then refused is deleted."""
    from .downloads import download_checkpoint, forget_download

    local = download_checkpoint(url, cache_dir=cache_dir)
    try:
        return _read_checkpoint(local, map_location, allow_unsafe=False)
    except CheckpointFileError as e:
        forgotten = forget_download(local)
        raise CheckpointFileError(
            f'{e} [downloaded from {url}'
            + ('; the downloaded file was deleted]' if forgotten else ']')
        ) from None


def read_checkpoint_bytes(data: bytes, name: str, map_location='cpu') -> dict:
    """Read a checkpoint held in memory (a file backend's bytes), weights-only, with the same
    checks as a file; ``name`` is what messages call it."""
    return _read_checkpoint_from(io.BytesIO(data), name, map_location, allow_unsafe=False)


def _read_checkpoint(path: str, map_location, allow_unsafe: bool):
    # one open file for the check and the load: the file checked is the file loaded
    with open(path, 'rb') as f:
        return _read_checkpoint_from(f, path, map_location, allow_unsafe)


def _read_checkpoint_from(f, path: str, map_location, allow_unsafe: bool):
    check_checkpoint_archive(f, path)
    try:
        if allow_unsafe:
            return torch.load(f, map_location=map_location, weights_only=False)
        with torch.serialization.safe_globals(allowed_types()):
            loaded = torch.load(f, map_location=map_location, weights_only=True)
        return materialise_arrays(loaded)
    except pickle.UnpicklingError as e:
        numpy_refusal = re.search(r'refusing a NumPy object[^\n]*', str(e))
        if numpy_refusal:
            raise CheckpointFileError(
                f'refusing checkpoint {_describe(path)}: {numpy_refusal.group(0)}'
            ) from None
        if 'weights_only' in str(e) or 'Unsupported global' in str(e):
            raise CheckpointFileError(_unsafe_message(path, e)) from None
        raise CheckpointFileError(f'cannot unpickle checkpoint {_describe(path)}: {e}') from e
    except CheckpointFileError:
        raise
    except Exception as e:  # truncated archives, bad pickles: torch's messages omit the file
        raise CheckpointFileError(
            f'cannot read checkpoint {_describe(path)}: {type(e).__name__}: {e}. The file '
            'may be truncated or corrupt'
        ) from e


def file_sha256(path: str) -> str:
    """The SHA-256 hex digest of a file."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


# ---- atomic writes --------------------------------------------------------------------------
#: every temporary file the package writes ends so (``.<name>.<random>.mmtokenmix.tmp``): the
#: only hidden files a cleanup may remove
TMP_SUFFIX = '.mmtokenmix.tmp'


def is_own_temporary_file(name: str) -> bool:
    """Whether the file name ``name`` is one of the package's temporary files (a user's
    ``.notes.tmp`` is not)."""
    return name.startswith('.') and name.endswith(TMP_SUFFIX)


def _default_file_mode() -> int:
    """The permissions ``open()`` gives a new file (0666 less the umask); tempfile makes 0600."""
    try:
        with open('/proc/self/status') as f:
            umask = next(int(line.split()[1], 8) for line in f if line.startswith('Umask:'))
    except (OSError, StopIteration, ValueError):
        umask = os.umask(0o022)
        os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def _atomic_file(path: str, mode: str):
    """Open a temporary file next to ``path``; on success flush it to disk, give it the
    permissions a new file gets, and rename it to ``path``; on any error ``path`` is untouched
    and the temporary file removed (a kill may leave one behind, never a partial ``path``)."""
    folder = osp.dirname(osp.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f'.{osp.basename(path)}.', suffix=TMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.chmod(f.fileno(), _default_file_mode())
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
    return load_checkpoint_file(filename, map_location or 'cpu')


def load_from_url_weights_only(filename, map_location=None):
    return load_checkpoint_file(filename, map_location or 'cpu')


def install_safe_mmengine_loaders() -> None:
    """Route mmengine's ``CheckpointLoader`` through :func:`load_checkpoint_file`: local files,
    http(s) URLs and each of mmengine's schemes (:data:`.schemes.SCHEME_LOADERS`, resolved as
    mmengine does). A scheme some other package registered, which we cannot resolve, is
    refused with a message naming it rather than read with full unpickling."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from .schemes import SCHEME_LOADERS, refuse_unknown_scheme

    CheckpointLoader.register_scheme('', load_from_local_weights_only, force=True)
    CheckpointLoader.register_scheme(
        ('http://', 'https://'), load_from_url_weights_only, force=True
    )
    ours = {'', 'http://', 'https://'}
    for prefixes, loader in SCHEME_LOADERS:
        CheckpointLoader.register_scheme(prefixes, loader, force=True)
        ours.update(prefixes)
    others = [p for p in CheckpointLoader._schemes if p not in ours]
    if others:
        CheckpointLoader.register_scheme(others, refuse_unknown_scheme, force=True)
