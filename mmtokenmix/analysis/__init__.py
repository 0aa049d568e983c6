"""Measuring models: building a config's model (:mod:`.models`), parameter and FLOP counts
(:mod:`.complexity`), peak memory (:mod:`.memory`) and the shared timing loop (:mod:`.timing`)
used by every benchmark tool."""

from .complexity import (
    count_parameters,
    hook_style_flops,
    model_complexity,
    module_complexity,
    paper_input_size,
)
from .memory import peak_allocated_of, peak_memory_of
from .models import build_model_from_config, dummy_data_samples
from .timing import interleaved_seconds

__all__ = [
    'build_model_from_config',
    'count_parameters',
    'dummy_data_samples',
    'hook_style_flops',
    'interleaved_seconds',
    'model_complexity',
    'module_complexity',
    'paper_input_size',
    'peak_allocated_of',
    'peak_memory_of',
]
