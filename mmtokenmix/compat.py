"""Compatibility of the pinned stack with current torch on machines without a GPU.

mmengine 0.10.7 calls ``torch.cuda.set_device`` unconditionally when it initialises a
distributed run, which fails on CPU-only machines: :func:`patch_torch_for_cpu` makes it a no-op
there. (Checkpoint reading under torch's ``weights_only`` default is
:mod:`mmtokenmix.checkpoints.files`' job.)
"""

import torch


def patch_torch_for_cpu() -> None:
    if not torch.cuda.is_available():
        torch.cuda.set_device = lambda *args, **kwargs: None
