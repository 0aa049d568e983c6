"""Training-loop parts: :class:`CrashSafeCheckpointHook` (atomic saves, exact resume)."""
from .hooks import CrashSafeCheckpointHook, get_rng_state, set_rng_state

__all__ = ['CrashSafeCheckpointHook', 'get_rng_state', 'set_rng_state']
