"""Reading official checkpoints: one safe file reader (weights-only, see :mod:`.files`), safe
downloads (:mod:`.downloads`), one loader with a strict key check, and one converter per
official checkpoint family. ``Backbone.init_weights`` and ``tools/model_converters/*`` both use
these, so there is a single conversion code path. Importing this package routes mmengine's
checkpoint loading (``load_from``, ``resume``, every scheme it knows) through the same safe
reader."""

from .downloads import download_checkpoint, forget_download
from .files import (
    CheckpointFileError,
    CheckpointNotFoundError,
    atomic_save,
    atomic_write_text,
    install_safe_mmengine_loaders,
    load_checkpoint_file,
    trust_file_for_unpickling,
)
from .loading import (
    CheckpointMismatchError,
    check_state_dict,
    detect_dense_model,
    extract_state_dict,
    load_state_dict_checked,
    strip_prefix,
)

install_safe_mmengine_loaders()

__all__ = [
    'CheckpointFileError',
    'CheckpointMismatchError',
    'CheckpointNotFoundError',
    'atomic_save',
    'atomic_write_text',
    'check_state_dict',
    'detect_dense_model',
    'download_checkpoint',
    'extract_state_dict',
    'forget_download',
    'install_safe_mmengine_loaders',
    'load_checkpoint_file',
    'load_state_dict_checked',
    'strip_prefix',
    'trust_file_for_unpickling',
]
