"""Models and inputs whose outputs are saved in ``tests/data/reference_outputs.npz``.

Every parameter and buffer is filled from a generator seeded by a hash of its state-dict key, so
the weights depend only on the (official) key names and shapes, not on construction order or
initialisation code. A refactor that keeps the computation must reproduce the saved outputs
exactly; ``python tests/reference_outputs.py`` records this machine's outputs in the file
(only do that on purpose, from unchanged model code).

Float32 results are bit-reproducible only on the same kind of CPU: PyTorch and oneDNN pick
their kernels by instruction set (AVX2, AVX-512, ...), and those kernels sum in different
orders; two CPUs with the same instruction set have still differed in the last bit (seen on
2026-12-06; oneDNN chooses kernels and blocking by more than the instruction set). So the
file keeps recordings keyed by
``torch.backends.cpu.get_cpu_capability()``, several per instruction set where machines of one
set differed (``AVX512``, ``AVX512~2``: a machine must reproduce one of them exactly). The saved
ones were recorded from the same code on an Intel CPU with AVX-512/AMX ("AVX512"), a second
one whose oneDNN kernels rounded differently ("AVX512~2", 2026-12-06, outputs checked equal to
the earlier code's on that machine before recording) and an AMD EPYC with AVX2 ("AVX2").
``python tests/reference_outputs.py --variant N`` adds a recording as ``<set>~N``.
"""

import os.path as osp
import zlib
from typing import Dict, List, Tuple

import torch

DATA = osp.join(osp.dirname(osp.abspath(__file__)), 'data', 'reference_outputs.npz')


def cpu_capability() -> str:
    """The instruction set PyTorch dispatches its CPU kernels for on this machine."""
    return torch.backends.cpu.get_cpu_capability()


# name: (backbone config, input shape)
CASES = {
    'transxnet_t': (dict(type='TransXNet', arch='t'), (2, 3, 70, 94)),
    'dfformer_s18': (dict(type='DFFormer', arch='s18', nominal_size=64), (2, 3, 70, 94)),
    'cdfformer_s18': (dict(type='CDFFormer', arch='s18', nominal_size=64), (2, 3, 70, 94)),
}


def fill_by_key(model: torch.nn.Module):
    """Deterministic values per state-dict key: positive for norm variances, small elsewhere
    so deep networks stay in a sane range."""
    with torch.no_grad():
        for key, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            g = torch.Generator().manual_seed(zlib.crc32(key.encode()))
            values = torch.randn(tensor.shape, generator=g, dtype=torch.float64)
            if key.endswith('running_var'):
                values = values.abs() + 0.5
            elif key.endswith(('running_mean', 'bias')):
                values = values * 0.05
            elif key.endswith('weight') and tensor.dim() == 1:  # norms, scales
                values = 1 + 0.1 * values
            else:
                values = values * 0.05
            tensor.copy_(values.to(tensor.dtype))


def build_case(name: str) -> Tuple[torch.nn.Module, torch.Tensor]:
    import mmtokenmix.models  # noqa: F401 (registers the backbones)
    from mmtokenmix.registry import MODELS

    cfg, shape = CASES[name]
    model = MODELS.build(dict(cfg))
    fill_by_key(model)
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    return model.eval(), torch.randn(shape, generator=g)


def run_case(model: torch.nn.Module, x: torch.Tensor) -> Dict[str, List[torch.Tensor]]:
    """Outputs of the plain (upstream) path and of the inference fast path."""
    from mmtokenmix.models import fast_paths

    outs = {}
    with torch.no_grad():
        for label, enabled in (('plain', False), ('fast', True)):
            with fast_paths(enabled):
                outs[label] = [t.contiguous() for t in model(x)]
    return outs


if __name__ == '__main__':
    import sys

    import numpy as np

    torch.set_num_threads(1)
    capability = cpu_capability()
    if sys.argv[1:2] == ['--variant']:
        capability = f'{capability}~{int(sys.argv[2])}'
    elif sys.argv[1:]:
        sys.exit('usage: python tests/reference_outputs.py [--variant N]')
    saved = (
        {k: v for k, v in np.load(DATA).items() if not k.startswith(capability + '/')}
        if osp.exists(DATA)
        else {}
    )
    for case in CASES:
        for path, tensors in run_case(*build_case(case)).items():
            for i, t in enumerate(tensors):
                saved[f'{capability}/{case}/{path}/{i}'] = t.numpy()
    np.savez_compressed(DATA, **saved)
    print(f'wrote {DATA}: {len(saved)} arrays, recorded for {capability}')
