"""The bundled toy dataset generator (the official recipes' transforms are mmseg's own: see
``configs/_base_/datasets/ade20k_aligned_test.py``)."""
from .toy import CLASSES as TOY_CLASSES
from .toy import make_toy_dataset

__all__ = ['TOY_CLASSES', 'make_toy_dataset']
