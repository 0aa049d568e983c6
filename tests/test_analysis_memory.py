"""The peak of CPU tensor memory of a call, from the profiler's allocation record (what the
training benchmark reports)."""

import torch

from mmtokenmix.analysis import peak_allocated_of

MIB4 = 2**20  # float32 elements in 4 MiB


def test_peak_counts_what_is_alive_at_once():
    def run():
        a = torch.ones(MIB4)
        b = a * 2
        del a
        c = b + 1  # a is gone: two 4 MiB tensors alive at most
        return c.sum()

    peak = peak_allocated_of(run)
    assert 8 * 2**20 <= peak < 8 * 2**20 + 4096


def test_memory_released_during_the_call_but_held_before_is_not_subtracted():
    held = [torch.ones(MIB4)]

    def run():
        held.pop()  # 4 MiB allocated before the call, released in it
        return torch.ones(MIB4).sum()

    assert 4 * 2**20 <= peak_allocated_of(run) < 4 * 2**20 + 4096


def test_repeated_training_steps_measure_the_same():
    model = torch.nn.Linear(256, 256)
    x = torch.randn(64, 256)

    def step():
        model.zero_grad(set_to_none=True)  # drops the previous step's gradients
        model(x).square().sum().backward()

    peaks = [peak_allocated_of(step) for _ in range(3)]
    assert peaks[0] == peaks[1] == peaks[2] >= 256 * 257 * 4  # the new gradients count
