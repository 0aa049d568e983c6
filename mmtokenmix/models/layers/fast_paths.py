"""Fast paths (inference and training) and the switch that turns them off.

Some backbones compute, on every forward, a tensor that depends only on a parameter and on
the input size: TransXNet resizes its relative position encodings to the actual (queries x
keys) shape, DFFormer resizes its filter bases to the actual spectrum size. In inference the
parameters do not change, so :class:`ResizedParameterCache` keeps the last result and
reuses it for the next input of the same size (results over 64 MiB are not kept, so that a
forward never needs more memory than on the plain path). Other fast paths (TransXNet's fused
attention, 1x1 convolutions as matrix products, in-place element-wise work) are chosen by
:func:`use_inference_fast_path`.

The inference fast paths (:func:`use_inference_fast_path`: the caches, fused attention, the
in-place work) are taken only when no gradient is needed and the module is in eval mode. The
training fast paths (:func:`use_fast_path`) compute the same outputs and gradients up to
float rounding with less memory or time: written-out backwards that keep less for later
(chunked attention, StarReLU, the FFT filter), depthwise convolutions with a faster
backward, a separable resize of TransXNet's encodings. Inside ``with fast_paths(False):``
every model computes exactly the way the official implementations do (the *plain path*),
which benchmarks and tests compare the fast paths with.

TorchScript: a scripted model always computes the plain path. Every fast path sits inside an
``if not torch.jit.is_scripting():`` block, which ``torch.jit.script`` does not compile (the
switch, the caches and the checks below are Python objects it cannot compile).

Threads: the switch is per thread (a ``with fast_paths(False):`` in one thread does not change
what another computes), and a cache holds one immutable entry that a thread reads whole, so
several threads may share one model in eval mode with inputs of different sizes.
"""

import contextlib
import threading
from typing import Callable, Hashable, NamedTuple

import torch
from torch.fx._symbolic_trace import is_fx_tracing

_switch = threading.local()  # .enabled: this thread's setting (unset: on)


@contextlib.contextmanager
def fast_paths(enabled: bool):
    """Turn the inference fast paths on (default) or off inside the ``with`` block, in this
    thread."""
    previous = fast_paths_enabled()
    _switch.enabled = bool(enabled)
    try:
        yield
    finally:
        _switch.enabled = previous


def fast_paths_enabled() -> bool:
    """Whether the inference fast paths are switched on in this thread (see
    :func:`fast_paths`)."""
    return getattr(_switch, 'enabled', True)


def use_inference_fast_path(module: torch.nn.Module) -> bool:
    """True when ``module`` may take an inference fast path now: fast paths on, the module in
    eval mode, no autograd recording, and not being traced or compiled (a cached tensor would
    be frozen into the graph; so tracing FLOP counters and exports see the plain path)."""
    return (
        fast_paths_enabled()
        and not module.training
        and not torch.is_grad_enabled()
        and not torch.jit.is_tracing()
        and not torch.compiler.is_compiling()
    )


def use_fast_path(module: torch.nn.Module) -> bool:
    """True when ``module`` may take a fast path that is also right for training (no cached
    tensor; the same outputs and gradients up to float rounding): fast paths on and not being
    recorded by ``torch.jit.trace`` (exports and FLOP counters see the plain path).
    ``torch.compile`` compiles these paths."""
    return fast_paths_enabled() and not torch.jit.is_tracing() and not is_fx_tracing()


def use_written_out_backward(
    module: torch.nn.Module, x: torch.Tensor, handles_autocast: bool = False
) -> bool:
    """True when ``module`` may replace autograd's backward by a written-out one (an autograd
    function): a gradient is being recorded on a training fast path (:func:`use_fast_path`),
    not under ``torch.compile`` (which differentiates and fuses the plain computation itself)
    and, unless the function ``handles_autocast``, not under autocast."""
    # (use_fast_path before anything that reads x: it is False while torch.fx traces)
    return (
        torch.is_grad_enabled()
        and use_fast_path(module)
        and not torch.compiler.is_compiling()
        and (handles_autocast or not torch.is_autocast_enabled(x.device.type))
    )


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

    The entry (size, parameter copy, value) is one tuple, replaced whole: a thread reads it
    once, so it never pairs one size's key with another size's value.
    """

    max_bytes = 64 * 2**20

    class _Entry(NamedTuple):
        key: Hashable
        source: torch.Tensor
        value: torch.Tensor

    def __init__(self):
        self._entry = None

    def clear(self):
        self._entry = None

    def get(
        self,
        module: torch.nn.Module,
        param: torch.Tensor,
        key: Hashable,
        compute: Callable[[], torch.Tensor],
    ) -> torch.Tensor:
        """``compute()``, from the cache when ``module`` is on an inference fast path and
        ``param`` and ``key`` (the input size) are those of the cached value."""
        if not use_inference_fast_path(module):
            self.clear()
            return compute()
        entry = self._entry  # read once: another thread may replace it meanwhile
        if (
            entry is not None
            and entry.key == key
            and entry.source.device == param.device
            and entry.source.dtype == param.dtype
            and entry.source.shape == param.shape
            and torch.equal(entry.source, param)
        ):
            return entry.value
        value = compute()
        if value.numel() * value.element_size() > self.max_bytes:
            self.clear()
        else:
            self._entry = self._Entry(key, param.detach().clone(), value)
        return value

    def __deepcopy__(self, memo):
        return ResizedParameterCache()  # copies of a model start with an empty cache
