"""Data transforms the official recipes use and mmdet 3.x / mmseg 1.x lack."""
import math
from typing import Tuple

import mmcv
from mmcv.transforms import BaseTransform

from mmtokenmix.registry import TRANSFORMS


@TRANSFORMS.register_module()
class AlignResize(BaseTransform):
    """Resize, then resize again so that both sides are multiples of ``size_divisor``.

    The test-time resize of the official TransXNet Semantic FPN recipe (``mmseg_custom``'s
    ``AlignResize``, which comes from SegFormer's mmseg 0.x fork), for mmseg 1.x pipelines.
    Unlike ``Resize`` + padding, the image is *stretched* to the aligned size, so no padded
    border reaches the network; the aspect ratio changes by less than one ``size_divisor``
    step per side. Like upstream, the image is first rescaled to ``scale`` (keeping the ratio:
    it fits inside ``(long edge, short edge)``), then resized to the next multiple of
    ``size_divisor`` (rounding up) -- two interpolations, as upstream does.

    Args:
        scale: ``(w, h)`` target; with ``keep_ratio`` the (long, short) edge limits.
        keep_ratio: keep the aspect ratio in the first resize.
        size_divisor: both output sides are multiples of this.
        interpolation: image interpolation (segmentation maps always use nearest).

    Required keys: ``img``. Modified keys: ``img``, ``gt_seg_map`` (if present),
    ``img_shape``. Added keys: ``scale``, ``scale_factor`` (``(w, h)`` of the whole change),
    ``keep_ratio``.
    """

    def __init__(self, scale: Tuple[int, int], keep_ratio: bool = True, size_divisor: int = 32,
                 interpolation: str = 'bilinear') -> None:
        if not (isinstance(scale, (tuple, list)) and len(scale) == 2
                and all(isinstance(s, int) and s > 0 for s in scale)):
            raise ValueError(f'scale must be two positive ints (w, h), got {scale!r}')
        if not (isinstance(size_divisor, int) and size_divisor > 0):
            raise ValueError(f'size_divisor must be a positive int, got {size_divisor!r}')
        self.scale = tuple(scale)
        self.keep_ratio = keep_ratio
        self.size_divisor = size_divisor
        self.interpolation = interpolation

    def _resize(self, img, interpolation: str):
        if self.keep_ratio:
            img = mmcv.imrescale(img, self.scale, interpolation=interpolation)
        else:
            img = mmcv.imresize(img, self.scale, interpolation=interpolation)
        h, w = img.shape[:2]
        d = self.size_divisor
        return mmcv.imresize(img, (math.ceil(w / d) * d, math.ceil(h / d) * d),
                             interpolation=interpolation)

    def transform(self, results: dict) -> dict:
        h, w = results['img'].shape[:2]
        img = self._resize(results['img'], self.interpolation)
        new_h, new_w = img.shape[:2]
        results['img'] = img
        results['img_shape'] = (new_h, new_w)
        results['scale'] = (new_w, new_h)
        results['scale_factor'] = (new_w / w, new_h / h)
        results['keep_ratio'] = self.keep_ratio
        if results.get('gt_seg_map') is not None:
            results['gt_seg_map'] = self._resize(results['gt_seg_map'], 'nearest')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(scale={self.scale}, keep_ratio={self.keep_ratio}, '
                f'size_divisor={self.size_divisor}, interpolation={self.interpolation!r})')
