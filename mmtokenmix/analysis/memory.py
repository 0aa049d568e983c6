"""Peak memory of one call, on CUDA or from the process's resident set (Linux ``/proc``)."""
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
