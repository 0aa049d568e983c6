"""CPU threads for the processes of a distributed run on one machine.

torch gives every process all the machine's cores; with several processes per machine that
oversubscribes them (2 processes on 2 cores trained 10x slower than with 1 thread each).
"""

import os

import torch

# how launchers tell each process how many processes run on its machine
LOCAL_PROCESS_COUNT_VARS = (
    'LOCAL_WORLD_SIZE',
    'SLURM_NTASKS_PER_NODE',
    'OMPI_COMM_WORLD_LOCAL_SIZE',
)


def threads_per_process(launcher: str, environ=None, cores: int = None):
    """CPU threads each process of a distributed run on this machine should use, or None to
    leave torch's choice: an explicit ``OMP_NUM_THREADS`` wins; otherwise the machine's cores
    are shared out (torch gives every process all cores: with 2 processes on 2 cores that made
    training 10x slower than 1 thread each)."""
    environ = os.environ if environ is None else environ
    if launcher == 'none' or 'OMP_NUM_THREADS' in environ:
        return None
    for name in LOCAL_PROCESS_COUNT_VARS:
        value = environ.get(name, '').split('(')[0]  # SLURM may say '2(x3)'
        if value.isdigit() and int(value) > 1:
            cores = cores or len(os.sched_getaffinity(0))
            return max(1, cores // int(value))
    return None


def share_cpu_cores(launcher: str) -> None:
    """Apply :func:`threads_per_process` to this process (and its data loader workers)."""
    threads = threads_per_process(launcher)
    if threads is not None:
        torch.set_num_threads(threads)
        os.environ['OMP_NUM_THREADS'] = str(threads)
        print(
            f'mmtokenmix: {threads} CPU thread(s) per process (cores shared by the '
            'processes of this machine; set OMP_NUM_THREADS to choose)'
        )
