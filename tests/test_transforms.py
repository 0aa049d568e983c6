"""The official TransXNet Semantic FPN test resize (SegFormer's "AlignResize": rescale to fit
(2048, 512) keeping the ratio, then stretch both sides up to the next multiple of 32) is what
mmseg's Resize(keep_ratio=True) + ResizeToMultiple in our ADE20K test pipeline compute."""

import math
import os.path as osp

import cv2
import numpy as np
import pytest
from mmengine import Config

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))


def recipe_resize(img: np.ndarray) -> np.ndarray:
    """The recipe's two steps, written out with OpenCV (bilinear)."""
    h, w = img.shape[:2]
    factor = min(2048 / max(h, w), 512 / min(h, w))
    rh, rw = int(h * factor + 0.5), int(w * factor + 0.5)
    img = cv2.resize(img, (rw, rh), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(
        img, (math.ceil(rw / 32) * 32, math.ceil(rh / 32) * 32), interpolation=cv2.INTER_LINEAR
    )


@pytest.fixture(scope='module')
def test_resize():
    from mmcv.transforms import Compose
    from mmengine.registry import init_default_scope

    init_default_scope('mmseg')
    import mmseg.datasets  # noqa: F401 (registers mmseg's transforms)

    cfg = Config.fromfile(osp.join(REPO, 'configs', 'sfpn_transxnet_t_ade20k.py'))
    steps = cfg.test_dataloader.dataset.pipeline
    assert cfg.val_dataloader.dataset.pipeline == steps
    assert [s['type'] for s in steps] == [
        'LoadImageFromFile',
        'Resize',
        'ResizeToMultiple',
        'LoadAnnotations',
        'PackSegInputs',
    ]
    return Compose([dict(s) for s in steps[1:3]])


@pytest.mark.parametrize('h,w', [(375, 500), (512, 683), (1024, 2048), (97, 131), (640, 427)])
def test_config_test_resize_is_the_recipes_two_step_resize(test_resize, h, w):
    img = np.random.RandomState(h).randint(0, 255, (h, w, 3)).astype(np.uint8)
    out = test_resize(dict(img=img.copy(), img_shape=(h, w), ori_shape=(h, w)))
    expected = recipe_resize(img)
    assert out['img'].shape == expected.shape
    assert out['img'].shape[0] % 32 == 0 and out['img'].shape[1] % 32 == 0
    assert np.array_equal(out['img'], expected)
    assert tuple(out['img_shape']) == expected.shape[:2]
