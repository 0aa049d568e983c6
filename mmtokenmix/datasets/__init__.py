"""The bundled toy dataset generators (detection/segmentation, and classification in
ImageNet's folder layout), and mmcv's image loading with errors that name the file (the
official recipes' transforms are mmseg's own: see
``configs/_base_/datasets/ade20k_aligned_test.py``)."""

from .toy import CLASSES as TOY_CLASSES
from .toy import make_toy_classification, make_toy_dataset
from .transforms import ImageFileError, LoadImageFromFile

__all__ = [
    'ImageFileError',
    'LoadImageFromFile',
    'TOY_CLASSES',
    'make_toy_classification',
    'make_toy_dataset',
]
