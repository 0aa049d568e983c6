"""Training-loop parts: :class:`CrashSafeCheckpointHook` (atomic saves, exact resume) and
:class:`CPUAutocastOptimWrapper` (bf16 mixed precision on CPU)."""

from .hooks import CrashSafeCheckpointHook, get_rng_state, set_rng_state
from .optim_wrappers import CPUAutocastOptimWrapper

__all__ = ['CPUAutocastOptimWrapper', 'CrashSafeCheckpointHook', 'get_rng_state', 'set_rng_state']
