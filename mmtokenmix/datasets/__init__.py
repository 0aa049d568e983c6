"""Data helpers that mmdet/mmseg lack: the bundled toy dataset generator and the transforms of
the official recipes (registered as ``mmtokenmix.<Name>``)."""
from .toy import CLASSES as TOY_CLASSES
from .toy import make_toy_dataset
from .transforms import AlignResize

__all__ = ['TOY_CLASSES', 'make_toy_dataset', 'AlignResize']
