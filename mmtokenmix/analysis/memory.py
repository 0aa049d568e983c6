"""Peak memory of one call: on CUDA or from the process's resident set (Linux ``/proc``), or
the peak of tensor memory allocated on the CPU, from the profiler's allocation records."""

import warnings
from typing import Callable

import torch


def _rss_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def peak_memory_of(run: Callable[[], object], device: str) -> int:
    """Bytes of memory that ``run()`` needs beyond what is already held: on CUDA
    ``torch.cuda.max_memory_allocated``; on CPU the process's peak resident set (VmHWM, reset
    just before). Meaningful for the first forward of a fresh process: later ones reuse memory
    the allocator kept, which the resident set would not show again."""
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # resets VmHWM to the current resident set
        base = _rss_kib('VmRSS') * 1024
    run()
    if device == 'cuda':
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    return _rss_kib('VmHWM') * 1024 - base


def peak_allocated_of(run: Callable[[], object]) -> int:
    """Peak bytes of CPU tensor memory that ``run()`` allocated and held at once (what
    ``torch.cuda.max_memory_allocated`` counts on a GPU), from the PyTorch profiler's record of
    every allocation and release during the call. Unlike the resident set, it does not depend
    on what the C allocator kept from earlier calls, so repeated measurements agree: the
    measure for training steps, whose resident-set peaks varied by up to 1.7x between runs.
    Memory held before the call and released during it is not subtracted (so a training
    step that drops the previous step's gradients counts its new ones in full, whether or
    not the old ones were allocated while profiling)."""
    from torch.profiler import ProfilerActivity, profile

    with warnings.catch_warnings():  # (releases of blocks allocated before the call)
        warnings.simplefilter('ignore')
        with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
            run()
    allocations = []
    pending = list(prof.profiler.kineto_results.experimental_event_tree())
    while pending:
        event = pending.pop()
        if event.tag == torch._C._profiler._EventType.Allocation:
            fields = event.extra_fields
            if fields.device.type == 'cpu':
                allocations.append((event.start_time_ns, fields.alloc_size, fields.ptr))
        pending.extend(event.children)
    held = peak = 0
    allocated_here = {}  # address -> size of the blocks allocated during the call
    for _, size, address in sorted(allocations):
        if size > 0:
            allocated_here[address] = size
            held += size
            peak = max(peak, held)
        elif address in allocated_here:
            held -= allocated_here.pop(address)
    return peak
