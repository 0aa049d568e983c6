"""mmengine's checkpoint schemes, resolved the way mmengine resolves them, read weights-only.

mmengine's ``CheckpointLoader`` knows, besides local paths and http(s) URLs:

==========================  ==================================================================
``torchvision://NAME``      torchvision's URL for NAME (``modelzoo://`` is the old spelling)
``open-mmlab://NAME``       mmengine's ``hub/openmmlab.json`` table (plus
(``openmmlab://``)          ``$MMENGINE_HOME/open_mmlab.json``; deprecated names renamed); a
                            table entry that is not a URL is a file under ``$MMENGINE_HOME``
``mmcls://NAME``            mmengine's ``hub/mmcls.json``; only the ``backbone.`` weights are kept
``pavi://PATH``             a file in PAVI's model cloud (needs the ``pavi`` package)
``s3://`` / ``petrel://``   bytes from mmengine's petrel file backend (``cluster:s3://`` too)
==========================  ==================================================================

Each loader here resolves its URI with mmengine's own tables and backends, then reads the file
with :func:`~.files.load_checkpoint_file`'s checks and weights-only unpickling (mmengine's own
loaders call ``torch.load`` with full unpickling). URLs go to torch hub's ``checkpoints``
folder, where mmengine and torch hub put them, so a file they downloaded earlier is reused when
the hash in its name (``resnet50-0676ba61.pth``) verifies it; see :mod:`.downloads`.
"""

import os.path as osp
import re
import tempfile

import torch

from .files import (
    CheckpointFileError,
    load_checkpoint_file,
    load_url_weights_only,
    read_checkpoint_bytes,
)


def _mmengine():
    # looked up at call time: the URL tables are module functions (and tests replace them)
    from mmengine.runner import checkpoint

    return checkpoint


def _hub_checkpoints_dir() -> str:
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def _lookup(table: dict, name: str, uri: str, what: str) -> str:
    if name not in table:
        close = sorted(k for k in table if k.split('_')[0] == name.split('_')[0])[:8]
        raise CheckpointFileError(
            f'cannot load {uri!r}: {what} has no model {name!r}'
            + (f' (similar names: {close})' if close else '')
        )
    return table[name]


def load_from_torchvision_weights_only(filename: str, map_location=None):
    name = filename.split('://', 1)[1]
    url = _lookup(_mmengine().get_torchvision_models(), name, filename, "torchvision's model table")
    return load_url_weights_only(url, map_location or 'cpu', cache_dir=_hub_checkpoints_dir())


def load_from_openmmlab_weights_only(filename: str, map_location=None):
    mmengine_checkpoint = _mmengine()
    name = filename.split('://', 1)[1]
    name = mmengine_checkpoint.get_deprecated_model_names().get(name, name)
    location = _lookup(
        mmengine_checkpoint.get_external_models(), name, filename, "mmengine's open-mmlab table"
    )
    if re.match(r'https?://', location):
        return load_url_weights_only(
            location, map_location or 'cpu', cache_dir=_hub_checkpoints_dir()
        )
    return load_checkpoint_file(
        osp.join(mmengine_checkpoint._get_mmengine_home(), location),
        map_location or 'cpu',
        allow_unsafe=False,
    )


def load_from_mmcls_weights_only(filename: str, map_location=None):
    mmengine_checkpoint = _mmengine()
    url = _lookup(
        mmengine_checkpoint.get_mmcls_models(),
        filename.split('://', 1)[1],
        filename,
        "mmengine's mmcls table",
    )
    checkpoint = load_url_weights_only(url, map_location or 'cpu', cache_dir=_hub_checkpoints_dir())
    return mmengine_checkpoint._process_mmcls_checkpoint(checkpoint)


def load_from_pavi_weights_only(filename: str, map_location=None):
    try:
        from pavi import modelcloud
    except ImportError:
        raise ImportError(
            f'cannot load {filename!r}: install pavi to load checkpoints from its model cloud'
        ) from None
    model = modelcloud.get(filename[len('pavi://') :])
    with tempfile.TemporaryDirectory() as folder:
        local = osp.join(folder, model.name)
        model.download(local)
        return load_checkpoint_file(local, map_location or 'cpu', allow_unsafe=False)


def load_from_ceph_weights_only(filename: str, map_location=None):
    from mmengine.fileio import get_file_backend

    backend = get_file_backend(filename, backend_args={'backend': 'petrel'})
    return read_checkpoint_bytes(backend.get(filename), filename, map_location or 'cpu')


def refuse_unknown_scheme(filename: str, map_location=None):
    raise CheckpointFileError(
        f'cannot load {filename!r}: its scheme was registered with mmengine by another package '
        'and mmtokenmix cannot read it weights-only; download the file and give its path'
    )


#: (mmengine's prefixes, our loader): the same prefixes as mmengine 0.10's own registrations
SCHEME_LOADERS = [
    (('modelzoo://', 'torchvision://'), load_from_torchvision_weights_only),
    (('open-mmlab://', 'openmmlab://'), load_from_openmmlab_weights_only),
    (('mmcls://',), load_from_mmcls_weights_only),
    (('pavi://',), load_from_pavi_weights_only),
    ((r'(\S+\:)?s3://', r'(\S+\:)?petrel://'), load_from_ceph_weights_only),
]


def load_from_scheme(uri: str, map_location='cpu'):
    """Read ``uri`` (one of the schemes above) weights-only."""
    for prefixes, loader in SCHEME_LOADERS:
        if any(re.match(prefix, uri) for prefix in prefixes):
            return loader(uri, map_location)
    known = [
        p.replace(r'(\S+\:)?', '[cluster:]') for prefixes, _ in SCHEME_LOADERS for p in prefixes
    ]
    raise CheckpointFileError(
        f'cannot load {uri!r}: unknown scheme; checkpoints are read from local paths, http(s) '
        f'URLs and the schemes {known}'
    )
