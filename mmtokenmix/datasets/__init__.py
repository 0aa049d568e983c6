"""Data helpers that mmdet/mmseg lack: the bundled toy dataset generator."""
from .toy import CLASSES as TOY_CLASSES
from .toy import make_toy_dataset

__all__ = ['TOY_CLASSES', 'make_toy_dataset']
