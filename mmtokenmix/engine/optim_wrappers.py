"""Mixed-precision training on CPU: :class:`CPUAutocastOptimWrapper`.

mmengine's ``AmpOptimWrapper`` refuses to start without CUDA (or NPU/MLU), so ``--amp`` had no
meaning on a CPU. On CPU, autocast runs in bfloat16, which has float32's exponent range:
gradients do not underflow and no loss scaling is needed, so this is the plain
``OptimWrapper`` with the forward (and loss) under ``torch.autocast('cpu', torch.bfloat16)``.
"""

from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper

from mmtokenmix.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward runs under CPU autocast (``type=
    'mmtokenmix.CPUAutocastOptimWrapper'``; ``tools/train.py --amp`` picks it when there is no
    GPU).

    Args:
        dtype: the autocast dtype, ``'bfloat16'`` (default) or ``'float16'``.
        **kwargs: ``OptimWrapper``'s (``optimizer``, ``clip_grad``,
            ``accumulative_counts``).
    """

    valid_dtypes = ('bfloat16', 'float16')

    def __init__(self, dtype: str = 'bfloat16', **kwargs):
        if dtype not in self.valid_dtypes:
            raise ValueError(
                f'CPUAutocastOptimWrapper: dtype must be one of {self.valid_dtypes}, got {dtype!r}'
            )
        super().__init__(**kwargs)
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        with super().optim_context(model), torch.autocast('cpu', dtype=self.cast_dtype):
            yield
