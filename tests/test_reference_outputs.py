"""DFFormer, CDFFormer and TransXNet compute exactly what they computed when the reference was
saved (tests/reference_outputs.py): refactors must not change a single bit, on the plain
(upstream) path nor on the inference fast path."""
import numpy as np
import pytest
import torch

from reference_outputs import CASES, DATA, build_case, run_case


@pytest.fixture
def one_thread():
    # the reference was computed on one thread: oneDNN splits reductions by thread count
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize('name', sorted(CASES))
def test_outputs_are_bit_identical_to_the_saved_reference(name, one_thread):
    saved = np.load(DATA)
    outs = run_case(*build_case(name))
    for path, tensors in outs.items():
        expected = [saved[f'{name}/{path}/{i}'] for i in range(len(tensors))]
        assert len(tensors) == 4 and f'{name}/{path}/4' not in saved
        for i, (out, ref) in enumerate(zip(tensors, expected)):
            ref = torch.from_numpy(ref)
            assert out.shape == ref.shape, (path, i)
            assert torch.isfinite(ref).all() and ref.std() > 0.1, (path, i)
            diff = (out - ref).abs().max().item()
            assert torch.equal(out, ref), f'{name} {path} stage {i}: max |diff| {diff:.3g}'
