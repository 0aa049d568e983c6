"""``timm.create_model(name, checkpoint_path=...)`` for our classifiers, through the safe reader.

timm reads ``checkpoint_path`` with ``torch.load(weights_only=True)``, which before torch 2.6
hands a TorchScript archive to ``torch.jit.load`` and so runs the code in it. For models that
contain one of our classifiers, :func:`load_checkpoint` reads the file with
:func:`mmtokenmix.checkpoints.load_checkpoint_file` instead and then does what timm does (the
EMA weights when present and ``use_ema``, ``module.`` prefixes removed, ``remap`` /
``filter_fn``, strict loading). Every other model, and ``.safetensors`` / ``.npz`` files, go
to timm's own function unchanged.
"""
import os.path as osp

import torch.nn as nn

_TIMM_LOAD_CHECKPOINT = None  # timm's function, kept when ours is installed


def _holds_our_classifier(model: nn.Module) -> bool:
    from .classifiers import TimmClassifier
    return any(isinstance(m, TimmClassifier) for m in model.modules())


def load_checkpoint(model, checkpoint_path, use_ema=True, device='cpu', strict=True,
                    remap=False, filter_fn=None, weights_only=True):
    """timm's ``load_checkpoint`` (same arguments), reading our classifiers' files safely."""
    if not _holds_our_classifier(model) or \
            osp.splitext(str(checkpoint_path))[1].lower() in ('.safetensors', '.npz', '.npy'):
        return _TIMM_LOAD_CHECKPOINT(model, checkpoint_path, use_ema=use_ema, device=device,
                                     strict=strict, remap=remap, filter_fn=filter_fn,
                                     weights_only=weights_only)
    from timm.models._helpers import clean_state_dict, remap_state_dict

    from mmtokenmix.checkpoints import load_checkpoint_file
    checkpoint = load_checkpoint_file(str(checkpoint_path), map_location=device)
    state_dict = checkpoint
    if isinstance(checkpoint, dict):
        for key in (('state_dict_ema', 'model_ema') if use_ema else ()) + ('state_dict',
                                                                          'model'):
            if checkpoint.get(key) is not None:
                state_dict = checkpoint[key]
                break
    state_dict = clean_state_dict(state_dict)
    if remap:
        state_dict = remap_state_dict(state_dict, model)
    elif filter_fn:
        state_dict = filter_fn(state_dict, model)
    return model.load_state_dict(state_dict, strict=strict)


def route_timm_checkpoint_loading() -> None:
    """Make ``timm.create_model``'s ``checkpoint_path`` use :func:`load_checkpoint` (once)."""
    global _TIMM_LOAD_CHECKPOINT
    import timm.models._factory as factory
    if factory.load_checkpoint is load_checkpoint:
        return
    _TIMM_LOAD_CHECKPOINT = factory.load_checkpoint
    factory.load_checkpoint = load_checkpoint
