"""The one timing loop of the benchmark tools (``tools/analysis_tools/benchmark_*.py``)."""

from typing import Callable, Dict

import torch


def interleaved_seconds(
    runs: Dict[str, Callable[[], object]], repeats: int = 5, warmup: int = 1, device: str = 'cpu'
) -> Dict[str, Dict[str, float]]:
    """Wall seconds of each ``runs[name]()``, the runs taking turns (``warmup`` untimed
    rounds, then ``repeats`` timed ones), so that a machine getting slower or faster during
    the measurement affects all of them alike. Returns per name the ``median``, ``min`` and
    ``max`` over the timed rounds."""
    import statistics
    import time

    def sync():
        if device == 'cuda':
            torch.cuda.synchronize()

    times = {name: [] for name in runs}
    for round_ in range(warmup + repeats):
        for name, run in runs.items():
            sync()
            start = time.perf_counter()
            run()
            sync()
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
    return {
        name: dict(median=statistics.median(t), min=min(t), max=max(t)) for name, t in times.items()
    }
