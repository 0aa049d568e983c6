"""What ``tools/train.py`` and ``tools/test.py`` need beyond mmengine on current torch/CPU.

* mmengine 0.10.7 calls ``torch.cuda.set_device`` unconditionally when it initialises a
  distributed run, which fails on CPU-only machines: it becomes a no-op there.
* torch >= 2.6 loads checkpoints with ``weights_only=True`` by default, which cannot read
  mmengine's resume checkpoints (message hub, numpy scalars); mmengine does not pass the flag,
  so the environment default is set back to full unpickling (our own files only).
* On CPU, distributed runs use gloo and DDP without ``device_ids``.
"""
import os

import torch


def patch_torch_for_cpu() -> None:
    os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    if not torch.cuda.is_available():
        torch.cuda.set_device = lambda *args, **kwargs: None


def adapt_config_to_device(cfg, launcher: str) -> None:
    """Make a GPU-oriented config run distributed on CPU (gloo, DDP without device ids)."""
    if launcher == 'none' or torch.cuda.is_available():
        return
    env_cfg = cfg.setdefault('env_cfg', {})
    env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    wrapper = dict(type='MMDistributedDataParallel', broadcast_buffers=False,
                   find_unused_parameters=cfg.get('find_unused_parameters', False))
    wrapper.update(cfg.get('model_wrapper_cfg') or {})
    wrapper['device_ids'] = None  # an explicit None beats the Runner's [LOCAL_RANK] default
    cfg.model_wrapper_cfg = wrapper
