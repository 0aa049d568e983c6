"""Visualizers for the toolboxes' tools, registered as ``mmtokenmix.<name>``."""

import numpy as np
from mmseg.visualization import SegLocalVisualizer as _MMSegLocalVisualizer

from mmtokenmix.registry import VISUALIZERS


@VISUALIZERS.register_module()
class SegLocalVisualizer(_MMSegLocalVisualizer):
    """mmseg's ``SegLocalVisualizer``, drawing on a contiguous copy of the image.

    mmseg's own ``tools/analysis_tools/browse_dataset.py`` passes a permuted view of the
    input tensor; the label map is drawn on an array made like it (``np.zeros_like``, so
    equally non-contiguous), and OpenCV 4.10+ refuses to draw the class names on that ("Layout
    of the output array img is incompatible with cv::Mat"). Our segmentation configs use this
    class; put ``visualizer=dict(type='mmtokenmix.SegLocalVisualizer', ...)`` into a stock
    mmseg config to browse it with the same stack.
    """

    def add_datasample(self, name, image, *args, **kwargs):
        return super().add_datasample(name, np.ascontiguousarray(image), *args, **kwargs)
