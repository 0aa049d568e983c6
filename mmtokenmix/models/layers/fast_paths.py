"""Inference fast paths and the switch that turns them off.

Some backbones compute, on every forward, a tensor that depends only on a parameter and on
the input size: TransXNet resizes its relative position encodings to the actual (queries x
keys) shape, DFFormer resizes its filter bases to the actual spectrum size. In inference the
parameters do not change, so :class:`ResizedParameterCache` keeps the last result and
reuses it for the next input of the same size (results over 64 MiB are not kept, so that a
forward never needs more memory than on the plain path). Other fast paths (TransXNet's fused
attention, 1x1 convolutions as matrix products, in-place element-wise work) are chosen by
:func:`use_inference_fast_path`.

Every fast path is taken only when no gradient is needed and the module is in eval mode; in
training everything runs as before. Inside ``with fast_paths(False):`` every model computes
exactly the way the official implementations do (the *plain path*), which benchmarks and
tests compare the fast paths with.
"""
import contextlib
from typing import Callable, Hashable, Optional

import torch

_ENABLED = True


@contextlib.contextmanager
def fast_paths(enabled: bool):
    """Turn the inference fast paths on (default) or off inside the ``with`` block."""
    global _ENABLED
    previous, _ENABLED = _ENABLED, bool(enabled)
    try:
        yield
    finally:
        _ENABLED = previous


def fast_paths_enabled() -> bool:
    """Whether the inference fast paths are switched on (see :func:`fast_paths`)."""
    return _ENABLED


def use_inference_fast_path(module: torch.nn.Module) -> bool:
    """True when ``module`` may take an inference fast path now: fast paths on, the module in
    eval mode, no autograd recording, and not being traced or compiled (a cached tensor would
    be frozen into the graph; so tracing FLOP counters and exports see the plain path)."""
    return (_ENABLED and not module.training and not torch.is_grad_enabled()
            and not torch.jit.is_tracing() and not torch.compiler.is_compiling())


class ResizedParameterCache:
    """Keeps ``compute()``, a tensor derived from ``param`` for one input size, between
    inference forwards.

    The cached value is reused only while ``param`` is unchanged: a copy of the parameter is
    kept and compared exactly (``torch.equal``, one pass over the small stored parameter), so
    an optimizer step, ``load_state_dict``, an edit through ``param.data`` or a move to
    another device all invalidate it. Only the latest size is kept (detection inputs vary in
    size; one entry bounds the memory), and only a result of at most :attr:`max_bytes`:
    TransXNet's stage-1 encoding at 800x1216 is 231 MB, and keeping it (with stages 2-3)
    made the peak memory of a TransXNet-S forward 10-15 % higher than on the plain path.
    Forwards that may not use a fast path compute afresh and drop the cached tensor.
    """

    max_bytes = 64 * 2**20

    def __init__(self):
        self._key: Optional[Hashable] = None
        self._source: Optional[torch.Tensor] = None
        self._value: Optional[torch.Tensor] = None

    def clear(self):
        self._key = self._source = self._value = None

    def get(self, module: torch.nn.Module, param: torch.Tensor, key: Hashable,
            compute: Callable[[], torch.Tensor]) -> torch.Tensor:
        """``compute()``, from the cache when ``module`` is on an inference fast path and
        ``param`` and ``key`` (the input size) are those of the cached value."""
        if not use_inference_fast_path(module):
            self.clear()
            return compute()
        source = self._source
        if (self._key == key and source is not None and source.device == param.device
                and source.dtype == param.dtype and source.shape == param.shape
                and torch.equal(source, param)):
            return self._value
        value = compute()
        if value.numel() * value.element_size() > self.max_bytes:
            self.clear()
        else:
            self._key, self._source, self._value = key, param.detach().clone(), value
        return value

    def __deepcopy__(self, memo):
        return ResizedParameterCache()  # copies of a model start with an empty cache
