"""MobileViT-S ImageNet weights (mmpretrain layout) as the substitute initialisation of XFormer.

No XFormer weights exist. XFormer keeps mmpretrain's MobileViT parameter names, and XFA has the
parameters of self-attention plus one temperature per head, so every MobileViT-S tensor whose
name and shape agree is loaded and the rest is reported (the temperatures keep their init of 1;
``conv_1x1_exp`` and the classifier are unused by the dense backbone).
"""

from typing import Dict

import torch
import torch.nn as nn

from .loading import CheckpointMismatchError


def load_matching_weights(
    model: nn.Module, state_dict: Dict[str, torch.Tensor], source: str = 'checkpoint'
) -> dict:
    """Load the tensors of ``state_dict`` whose names and shapes agree with ``model``; return
    a report ``dict(loaded, missing, unexpected, mismatched)`` (lists of keys). Raises
    :class:`CheckpointMismatchError` when nothing at all matches."""
    own = model.state_dict()
    loaded = [k for k, v in state_dict.items() if k in own and own[k].shape == v.shape]
    report = dict(
        loaded=loaded,
        missing=[k for k in own if k not in state_dict],
        unexpected=[k for k in state_dict if k not in own],
        mismatched=[
            f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
            for k, v in state_dict.items()
            if k in own and own[k].shape != v.shape
        ],
    )
    if not loaded:
        raise CheckpointMismatchError(
            f'{source}: no tensor matches {type(model).__name__} by name and shape (first keys '
            f'of the checkpoint: {list(state_dict)[:5]}); for mmpretrain files pass '
            f"prefix='backbone.'"
        )
    model.load_state_dict({k: state_dict[k] for k in loaded}, strict=False)
    return report


def format_report(report: dict, limit: int = 8) -> str:
    def some(keys):
        return ', '.join(keys[:limit]) + (
            f', ... ({len(keys)} in all)' if len(keys) > limit else ''
        )

    lines = [f'loaded {len(report["loaded"])} tensors']
    for name in ('missing', 'unexpected', 'mismatched'):
        if report[name]:
            lines.append(f'{name} ({len(report[name])}): {some(report[name])}')
    return '; '.join(lines)
