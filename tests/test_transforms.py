import numpy as np
import pytest

from mmtokenmix.datasets import AlignResize


@pytest.mark.parametrize('h,w', [(375, 500), (512, 683), (1024, 2048), (97, 131), (640, 427)])
def test_align_resize_gives_multiples_of_32_and_keeps_the_ratio(h, w):
    img = np.random.RandomState(0).randint(0, 255, (h, w, 3)).astype(np.uint8)
    seg = np.random.RandomState(1).randint(0, 5, (h, w)).astype(np.uint8)
    out = AlignResize(scale=(2048, 512))(dict(img=img, gt_seg_map=seg))
    oh, ow = out['img'].shape[:2]
    assert oh % 32 == 0 and ow % 32 == 0
    assert out['img_shape'] == (oh, ow) and out['gt_seg_map'].shape == (oh, ow)
    # first a keep-ratio rescale to fit (2048 long, 512 short), then each side rounded up to
    # the next multiple of 32: never more than one step away
    factor = min(2048 / max(h, w), 512 / min(h, w))
    rh, rw = int(h * factor + 0.5), int(w * factor + 0.5)
    assert 0 <= oh - rh < 32 and 0 <= ow - rw < 32
    assert abs(ow / oh - w / h) <= (w / h) * (32 / min(rh, rw))
    assert out['scale_factor'] == pytest.approx((ow / w, oh / h))
    assert out['keep_ratio'] is True
    assert set(np.unique(out['gt_seg_map'])) <= set(np.unique(seg))  # nearest: no new labels


def test_align_resize_is_registered_for_mmseg_pipelines():
    from mmengine.registry import init_default_scope
    from mmseg.registry import TRANSFORMS
    init_default_scope('mmseg')
    t = TRANSFORMS.build(dict(type='mmtokenmix.AlignResize', scale=(2048, 512),
                              size_divisor=32))
    assert isinstance(t, AlignResize)
    out = t(dict(img=np.zeros((300, 400, 3), np.uint8)))
    assert out['img'].shape == (512, 704, 3)  # 512x683 after the rescale, 683 -> 704


@pytest.mark.parametrize('kwargs,match', [(dict(scale=512), 'two positive ints'),
                                          (dict(scale=(512, 0)), 'two positive ints'),
                                          (dict(scale=(512, 512), size_divisor=0),
                                           'size_divisor')])
def test_align_resize_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AlignResize(**kwargs)
