"""DFFormer, CDFFormer and TransXNet compute exactly what they computed when the reference was
saved (tests/reference_outputs.py): refactors must not change a single bit, on the plain
(upstream) path nor on the inference fast path.

Bits are only comparable on the CPU kind the reference was recorded on (kernels are chosen by
instruction set and sum in different orders), so the file holds one recording per instruction
set. On a CPU kind without its own recording the outputs are compared with every recording
within float32 rounding across kernels (measured between the AVX2 and AVX-512 recordings: at
most 2.1e-6 of a map's largest value, growing with depth); record that machine with
``python tests/reference_outputs.py`` from unchanged code to get the bit-exact check there too.
"""

import numpy as np
import pytest
import torch
from reference_outputs import CASES, DATA, build_case, cpu_capability, run_case

# Relative to a map's largest value, between recordings of the same code on different
# instruction sets; a changed computation moves these outputs (std ~1) by far more.
CROSS_CPU_RTOL = 1e-5


@pytest.fixture
def one_thread():
    # the reference was computed on one thread: oneDNN splits reductions by thread count
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def recordings():
    saved = np.load(DATA)
    return saved, sorted({key.split('/')[0] for key in saved.files})


def test_the_reference_holds_recordings_of_two_instruction_sets():
    saved, capabilities = recordings()
    assert {'AVX2', 'AVX512'} <= set(capabilities)
    for capability in capabilities:
        assert {k.split('/')[1] for k in saved.files if k.startswith(capability + '/')} == set(
            CASES
        )


@pytest.mark.parametrize('name', sorted(CASES))
def test_outputs_are_bit_identical_to_the_saved_reference(name, one_thread):
    saved, capabilities = recordings()
    here = cpu_capability()
    outs = run_case(*build_case(name))
    exact_misses = []  # recordings of this instruction set that this CPU does not reproduce
    for capability in capabilities:
        exact = capability.split('~')[0] == here
        mismatches = []
        for path, tensors in outs.items():
            prefix = f'{capability}/{name}/{path}'
            assert len(tensors) == 4 and f'{prefix}/4' not in saved
            for i, out in enumerate(tensors):
                ref = torch.from_numpy(saved[f'{prefix}/{i}'])
                assert out.shape == ref.shape, (prefix, i)
                assert torch.isfinite(ref).all() and ref.std() > 0.1, (prefix, i)
                diff = (out - ref).abs().max().item()
                bound = CROSS_CPU_RTOL * ref.abs().max().item()
                message = f'{prefix} stage {i} (this CPU: {here}): max |diff| {diff:.3g}'
                assert diff <= bound, f'{message} > {bound:.3g}'
                if exact and not torch.equal(out, ref):
                    mismatches.append(message)
        if exact:
            exact_misses.append(mismatches)
    # one recording of this CPU's instruction set must be reproduced bit for bit
    if exact_misses:
        assert any(not m for m in exact_misses), exact_misses
    # the two recordings themselves differ only by rounding, never by more than the bound
    for path in ('plain', 'fast'):
        for i in range(4):
            refs = [saved[f'{c}/{name}/{path}/{i}'] for c in capabilities]
            bound = CROSS_CPU_RTOL * np.abs(refs[0]).max()
            assert max(np.abs(r - refs[0]).max() for r in refs) <= bound
