"""timm's weight loading for our classifiers, through the safe reader.

* ``timm.create_model(name, checkpoint_path=...)``: see :func:`load_checkpoint`.
* ``timm.create_model(name, pretrained=True, ...)``: :func:`local_pretrained_kwargs` finds the
  weights timm would use -- ``pretrained_cfg_overlay=dict(file=...)`` (or a ``pretrained_cfg``
  with ``file``), else the file of the release URL in torch hub's cache, where timm downloads
  it -- reads them weights-only and hands the state dict to timm (its ``state_dict`` source),
  so timm still drops the classifier for another ``num_classes`` and adapts the stem for
  another ``in_chans``. Nothing is downloaded: without a local file the error names the file
  and the command that fetches it.

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


def _read_state_dict(path: str, use_ema: bool = True, device='cpu') -> dict:
    """The state dict of a timm-style file (EMA weights first when ``use_ema``, then
    ``state_dict`` / ``model``; ``module.`` prefixes removed), read weights-only."""
    from timm.models._helpers import clean_state_dict

    from mmtokenmix.checkpoints import load_checkpoint_file

    checkpoint = load_checkpoint_file(path, map_location=device)
    state_dict = checkpoint
    if isinstance(checkpoint, dict):
        for key in (('state_dict_ema', 'model_ema') if use_ema else ()) + ('state_dict', 'model'):
            if checkpoint.get(key) is not None:
                state_dict = checkpoint[key]
                break
    return clean_state_dict(state_dict)


def local_pretrained_kwargs(name: str, kwargs: dict) -> dict:
    """``kwargs`` of ``timm.create_model(name, pretrained=True, **kwargs)`` with the weights,
    read weights-only from a local file, as the ``state_dict`` of ``pretrained_cfg_overlay``
    (see the module docstring)."""
    import torch
    from timm.models._builder import resolve_pretrained_cfg

    from mmtokenmix.checkpoints.official import OFFICIAL_CHECKPOINTS

    overlay = dict(kwargs.get('pretrained_cfg_overlay') or {})
    cfg = resolve_pretrained_cfg(name, kwargs.get('pretrained_cfg'), overlay).to_dict()
    if cfg.get('state_dict') is not None:
        return kwargs  # the caller's own state dict: nothing to read
    path = cfg.get('file')
    if not path:
        url = cfg.get('url') or ''
        entry = OFFICIAL_CHECKPOINTS.get(f'{name}_in1k')
        if not url:
            raise RuntimeError(
                f'{name}: no weights were released for it, so pretrained=True needs a file: '
                f"timm.create_model('{name}', pretrained=True, "
                "pretrained_cfg_overlay=dict(file='path/to/weights.pth'))"
            )
        hub = osp.join(torch.hub.get_dir(), 'checkpoints')
        names = [osp.basename(url)]
        found = [osp.join(hub, n) for n in names if osp.isfile(osp.join(hub, n))]
        if not found:
            fetch = (
                f'python tools/misc/download_weights.py {entry.name} --out-dir {hub}'
                if entry is not None
                else f'download {url} into {hub}'
            )
            raise RuntimeError(
                f'{name}: pretrained=True reads the released weights from torch hub\'s cache, '
                f'{osp.join(hub, names[0])}, which does not exist; mmtokenmix never downloads '
                f'weights by itself. Fetch them with: {fetch} (or pass '
                "pretrained_cfg_overlay=dict(file=PATH) / checkpoint_path=PATH)"
            )
        path = found[0]
    state_dict = _read_state_dict(path)
    return dict(kwargs, pretrained_cfg_overlay=dict(overlay, state_dict=state_dict))


def load_checkpoint(
    model,
    checkpoint_path,
    use_ema=True,
    device='cpu',
    strict=True,
    remap=False,
    filter_fn=None,
    weights_only=True,
):
    """timm's ``load_checkpoint`` (same arguments), reading our classifiers' files safely."""
    if not _holds_our_classifier(model) or osp.splitext(str(checkpoint_path))[1].lower() in (
        '.safetensors',
        '.npz',
        '.npy',
    ):
        return _TIMM_LOAD_CHECKPOINT(
            model,
            checkpoint_path,
            use_ema=use_ema,
            device=device,
            strict=strict,
            remap=remap,
            filter_fn=filter_fn,
            weights_only=weights_only,
        )
    from timm.models._helpers import remap_state_dict

    state_dict = _read_state_dict(str(checkpoint_path), use_ema, device)
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
