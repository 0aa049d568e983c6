"""Downloading checkpoints: complete and verified, or not at all.

Only a URL that a config or command names is ever fetched (connect/read timeout
``MMTOKENMIX_DOWNLOAD_TIMEOUT``, default 60 s). A download is written to a temporary file and
moved into place only when

* its byte count equals the server's ``Content-Length`` (a connection closed early is an
  error, not a short file),
* its SHA-256 starts with the expected value, when one is known (``sha256=``, or the prefix a
  file name carries as in torch hub's ``name-<hex>.pth``),
* it is what ``torch.save`` writes (:func:`~.files.check_checkpoint_archive`: a truncated zip,
  a TorchScript archive or any other file never enters the cache).

Next to each downloaded file a record ``<file>.source.json`` keeps the URL it came from, its
SHA-256 and size, and what was verified. A file is reused only for the same URL, or for a
request whose expected checksum it matches, and only while its SHA-256 is still the recorded
one; otherwise it is downloaded again (and replaces our own earlier download). A file at the
target path that has no record was not downloaded by us: it is used only when a known checksum
verifies it, and never overwritten. The default cache folder is one per URL under torch hub's
``checkpoints/mmtokenmix/``, so two URLs with the same file name never meet.
"""

import hashlib
import http.client
import json
import os
import os.path as osp
import re
import socket
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from typing import Optional

import torch

from .files import (
    TMP_SUFFIX,
    CheckpointFileError,
    _default_file_mode,
    _describe,
    atomic_write_text,
    check_checkpoint_archive,
    file_sha256,
)

DEFAULT_TIMEOUT_S = 60.0
SOURCE_SUFFIX = '.source.json'
_HASH_IN_NAME = re.compile(r'-([a-f0-9]{8,64})\.')  # torch hub: resnet18-f37072fd.pth
_SHA256 = re.compile(r'[0-9a-f]{8,64}')


def download_timeout() -> float:
    """Seconds a download may wait to connect or for the next bytes
    (``MMTOKENMIX_DOWNLOAD_TIMEOUT``, default 60)."""
    return float(os.environ.get('MMTOKENMIX_DOWNLOAD_TIMEOUT', DEFAULT_TIMEOUT_S))


def parse_sha256(value: str) -> str:
    """A SHA-256 (or a prefix of at least 8 hex digits) in lower case; anything else, the empty
    string included, is a ValueError (an empty value must never mean "do not verify")."""
    text = value.strip().lower() if isinstance(value, str) else value
    if not isinstance(text, str) or not _SHA256.fullmatch(text):
        raise ValueError(
            f'a SHA-256 must be 8 to 64 hex digits (the digest or a prefix of it), got {value!r}'
        )
    return text


def default_cache_dir(url: str) -> str:
    """Where a URL's file goes by default: a folder of its own under torch hub's checkpoints."""
    key = hashlib.sha256(url.encode()).hexdigest()[:16]
    return osp.join(torch.hub.get_dir(), 'checkpoints', 'mmtokenmix', key)


def source_record_path(path: str) -> str:
    return path + SOURCE_SUFFIX


def read_source_record(path: str) -> Optional[dict]:
    """The record of where the downloaded file ``path`` came from, or None."""
    try:
        with open(source_record_path(path)) as f:
            record = json.load(f)
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def forget_download(path: str) -> bool:
    """Delete a file we downloaded and its record (a file that was refused when read); a file
    without our record is not ours and stays. Whether it was deleted."""
    if read_source_record(path) is None:
        return False
    for p in (path, source_record_path(path)):
        if osp.isfile(p):
            os.remove(p)
    return True


def _expected_sha256(name: str, sha256: Optional[str]):
    if sha256 is not None:
        return parse_sha256(sha256), 'expected'
    in_name = _HASH_IN_NAME.search(name)
    return (in_name.group(1), 'from the file name') if in_name else (None, '')


def _reusable(target: str, url: str, expected: Optional[str]) -> bool:
    """Whether the file already at ``target`` may serve ``url`` (see the module docstring)."""
    if not osp.isfile(target):
        return False
    record = read_source_record(target)
    digest = file_sha256(target)
    if record is None:
        if expected and digest.startswith(expected):
            return True  # put there by hand, and verified
        raise CheckpointFileError(
            f'{_describe(target)} is already there but was not downloaded by mmtokenmix (it '
            f'has no {osp.basename(source_record_path(target))}) and '
            + (
                f'its SHA-256 {digest[:16]}... does not start with the expected {expected!r}'
                if expected
                else 'no checksum is known to verify it'
            )
            + '. It is left alone: move it away to download the file, or give its SHA-256 '
            '(--sha256) to use it'
        )
    if digest != record.get('sha256'):
        return False  # changed since we downloaded it: download again
    if expected:
        return digest.startswith(expected)
    if record.get('url') != url:
        return False  # fetched from another URL, and no checksum says it is the same file
    if not record.get('sha256_verified'):
        warnings.warn(
            f'using {target}, downloaded from {url}: no checksum was published to '
            f'verify it ({record.get("checked")})',
            stacklevel=3,
        )
    return True


def download_checkpoint(
    url: str,
    cache_dir: Optional[str] = None,
    timeout: Optional[float] = None,
    sha256: Optional[str] = None,
    file_name: Optional[str] = None,
) -> str:
    """The local path of ``url``'s file in ``cache_dir`` (default :func:`default_cache_dir`),
    downloading it unless a file there may serve this URL (see the module docstring).
    ``sha256``: the full hex digest or a prefix (default: the prefix the file name carries, if
    any); ``file_name`` defaults to the URL's. A server that does not answer within ``timeout``
    seconds, an HTTP error, a connection closed early, a checksum mismatch or a file that is
    not a checkpoint raises :class:`CheckpointFileError` and leaves nothing behind."""
    timeout = download_timeout() if timeout is None else timeout
    name = file_name or osp.basename(urllib.parse.urlparse(url).path) or 'checkpoint.pth'
    folder = cache_dir or default_cache_dir(url)
    target = osp.join(folder, name)
    try:
        expected, where = _expected_sha256(name, sha256)
    except ValueError as e:
        raise CheckpointFileError(f'cannot verify the download of {url}: {e}') from None
    if _reusable(target, url, expected):
        return target
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f'.{name}.', suffix=TMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, 'wb') as f:
            size, digest, length = _fetch(url, f, timeout)
        if length is not None and size != length:
            raise CheckpointFileError(
                f'download of {url} stopped after {size} of {length} bytes (the connection '
                'closed early); nothing was saved'
            )
        if expected and not digest.startswith(expected):
            raise CheckpointFileError(
                f'download of {url} is corrupt or not the expected file: its SHA-256 '
                f'{digest[:16]}... does not start with {expected!r} ({where}); nothing was saved'
            )
        with open(tmp, 'rb') as f:
            try:
                check_checkpoint_archive(f, url)
            except CheckpointFileError as e:
                raise CheckpointFileError(f'{e}; nothing was saved') from None
        checked = (
            f'SHA-256 verified against {expected} ({where})'
            if expected
            else 'size checked against Content-Length'
            if length is not None
            else 'unverified: the server sent no Content-Length and no checksum is known'
        )
        # the record first: a kill before the rename leaves a record that fits no file
        atomic_write_text(
            source_record_path(target),
            json.dumps(
                dict(
                    url=url,
                    sha256=digest,
                    size=size,
                    sha256_verified=bool(expected),
                    checked=checked,
                ),
                indent=1,
            )
            + '\n',
        )
        os.chmod(tmp, _default_file_mode())  # mkstemp makes it 0600
        os.replace(tmp, target)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)
    return target


def _fetch(url: str, f, timeout: float):
    """Stream ``url`` into ``f``: (bytes received, SHA-256, Content-Length or None)."""
    digest, size = hashlib.sha256(), 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get('Content-Length')
            length = int(length) if length and length.isdigit() else None
            for chunk in iter(lambda: response.read(1 << 20), b''):
                digest.update(chunk)
                f.write(chunk)
                size += len(chunk)
        f.flush()
        os.fsync(f.fileno())
    except (socket.timeout, TimeoutError) as e:
        raise CheckpointFileError(
            f'download of {url} timed out: no answer within {timeout:g} s ({e}); set '
            'MMTOKENMIX_DOWNLOAD_TIMEOUT to wait longer, or download the file yourself and '
            'give its local path'
        ) from None
    except urllib.error.URLError as e:
        raise CheckpointFileError(f'cannot download {url}: {e}') from None
    except (http.client.HTTPException, ConnectionError) as e:
        raise CheckpointFileError(
            f'download of {url} failed: {type(e).__name__}: {e}; nothing was saved'
        ) from None
    return size, digest.hexdigest(), length
