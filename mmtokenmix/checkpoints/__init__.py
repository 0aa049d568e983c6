"""Reading official checkpoints: one loader with a strict key check, and one converter per
official checkpoint family. ``Backbone.init_weights`` and ``tools/model_converters/*`` both use
these, so there is a single conversion code path."""
from .loading import (CheckpointMismatchError, check_state_dict, detect_dense_model,
                      extract_state_dict, load_checkpoint_file, load_state_dict_checked,
                      strip_prefix)

__all__ = ['CheckpointMismatchError', 'check_state_dict', 'detect_dense_model',
           'extract_state_dict', 'load_checkpoint_file', 'load_state_dict_checked',
           'strip_prefix']
