from collections import OrderedDict
from typing import Callable, Dict, Iterable, List, Tuple

import torch
import torch.nn as nn

# the containers official checkpoints use, in the order the upstream loaders try them
STATE_DICT_KEYS = ('state_dict', 'model', 'state_dict_ema')


# (a key only that kind of whole dense model has, its name): the official released COCO /
# ADE20K models; the head key names are the same in mmdet 2.x/3.x and mmseg 0.x/1.x
DENSE_MODELS = (
    ('bbox_head.retina_cls.weight', 'retinanet'),
    ('roi_head.mask_head.conv_logits.weight', 'maskrcnn'),
    ('decode_head.scale_heads.0.0.conv.weight', 'sfpn'),
)


class CheckpointMismatchError(RuntimeError):
    """A checkpoint's keys or shapes do not match the model; the message lists them."""


def extract_state_dict(checkpoint: dict) -> 'OrderedDict[str, torch.Tensor]':
    """The tensor dict inside ``checkpoint``: ``state_dict``, ``model`` or ``state_dict_ema``
    (first found, as upstream), or the checkpoint itself; a DataParallel ``module.`` prefix
    is removed."""
    if not isinstance(checkpoint, dict):
        raise TypeError(f'expected a checkpoint dict, got {type(checkpoint).__name__}')
    state_dict = checkpoint
    for key in STATE_DICT_KEYS:
        if isinstance(checkpoint.get(key), dict):
            state_dict = checkpoint[key]
            break
    bad = [k for k, v in state_dict.items() if not torch.is_tensor(v)]
    if bad:
        raise CheckpointMismatchError(
            f'checkpoint has no state dict (looked for {", ".join(STATE_DICT_KEYS)} or a raw '
            f'tensor dict); non-tensor entries: {bad[:10]}'
        )
    return OrderedDict((k[7:] if k.startswith('module.') else k, v) for k, v in state_dict.items())


def strip_prefix(state_dict: Dict[str, torch.Tensor], prefix: str) -> 'OrderedDict':
    """Keep the entries under ``prefix`` (e.g. ``'backbone.'``), with the prefix removed."""
    if not prefix:
        return OrderedDict(state_dict)
    out = OrderedDict((k[len(prefix) :], v) for k, v in state_dict.items() if k.startswith(prefix))
    if not out:
        raise CheckpointMismatchError(
            f'no key of the checkpoint starts with {prefix!r}; first keys: {list(state_dict)[:5]}'
        )
    return out


def _format(title: str, keys: List[str]) -> str:
    return f'{title} ({len(keys)}):\n    ' + '\n    '.join(keys)


def check_state_dict(
    module: nn.Module,
    state_dict: Dict[str, torch.Tensor],
    allow_missing: Callable[[str], bool] = lambda k: False,
    allow_unexpected: Callable[[str], bool] = lambda k: False,
    source: str = 'checkpoint',
) -> Tuple[List[str], List[str]]:
    """Compare ``state_dict`` with ``module``'s keys and shapes without loading anything.

    Missing keys must satisfy ``allow_missing``, unexpected ones ``allow_unexpected``, and
    every shared key must have the same shape. Otherwise :class:`CheckpointMismatchError`
    lists all offending keys. Returns the allowed (missing, unexpected).
    """
    own = module.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    bad_missing = [k for k in missing if not allow_missing(k)]
    bad_unexpected = [k for k in unexpected if not allow_unexpected(k)]
    bad_shapes = [
        f'{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(v.shape)}'
        for k, v in own.items()
        if k in state_dict and state_dict[k].shape != v.shape
    ]
    if bad_missing or bad_unexpected or bad_shapes:
        parts = [f'{source} does not match {type(module).__name__}']
        if bad_missing:
            parts.append(_format('missing keys', bad_missing))
        if bad_unexpected:
            parts.append(_format('unexpected keys', bad_unexpected))
        if bad_shapes:
            parts.append(_format('shape mismatches', bad_shapes))
        raise CheckpointMismatchError('\n'.join(parts))
    return missing, unexpected


def load_state_dict_checked(
    module: nn.Module,
    state_dict: Dict[str, torch.Tensor],
    allow_missing: Callable[[str], bool] = lambda k: False,
    allow_unexpected: Callable[[str], bool] = lambda k: False,
    source: str = 'checkpoint',
) -> Tuple[List[str], List[str]]:
    """:func:`check_state_dict`, then load the matching entries (nothing is loaded when the
    check fails). Returns the allowed (missing, unexpected)."""
    missing, unexpected = check_state_dict(
        module, state_dict, allow_missing, allow_unexpected, source
    )
    own = set(module.state_dict())
    module.load_state_dict({k: v for k, v in state_dict.items() if k in own}, strict=False)
    return missing, unexpected


def keys_with_prefixes(prefixes: Iterable[str]) -> Callable[[str], bool]:
    """A predicate for :func:`load_state_dict_checked`: key starts with one of ``prefixes``."""
    prefixes = tuple(prefixes)
    return lambda key: key.startswith(prefixes)


def detect_dense_model(state_dict: Dict[str, torch.Tensor]) -> str:
    """``'retinanet'``, ``'maskrcnn'``, ``'sfpn'`` (see :data:`DENSE_MODELS`) or ``'other'``
    for a whole-model state dict."""
    for key, model in DENSE_MODELS:
        if key in state_dict:
            return model
    return 'other'
