import hashlib
import json
import os.path as osp

import cv2
import numpy as np

from mmtokenmix.datasets import TOY_CLASSES, make_toy_dataset


def _digest(root):
    h = hashlib.sha256()
    for split in ('train', 'val'):
        with open(osp.join(root, 'annotations', f'instances_{split}.json'), 'rb') as f:
            h.update(f.read())
        for i in range(3):
            for sub in ('images', 'masks'):
                with open(osp.join(root, sub, split, f'{i:06d}.png'), 'rb') as f:
                    h.update(f.read())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = make_toy_dataset(str(tmp_path / 'a'), 6, 3, seed=0)
    make_toy_dataset(str(tmp_path / 'b'), 6, 3, seed=0)
    make_toy_dataset(str(tmp_path / 'c'), 6, 3, seed=1)
    assert _digest(tmp_path / 'a') == _digest(tmp_path / 'b') != _digest(tmp_path / 'c')
    assert set(a) == {'train', 'val'}


def test_annotations_agree_with_label_maps(tmp_path):
    root = tmp_path / 'toy'
    make_toy_dataset(str(root), 12, 4, size=(96, 112), seed=3)
    coco = json.load(open(root / 'annotations' / 'instances_train.json'))
    assert [c['name'] for c in coco['categories']] == list(TOY_CLASSES)
    assert len(coco['images']) == 12
    labels_seen = set()
    for img in coco['images']:
        sem = cv2.imread(str(root / 'masks' / 'train' / img['file_name']), cv2.IMREAD_UNCHANGED)
        rgb = cv2.imread(str(root / 'images' / 'train' / img['file_name']))
        assert sem.shape == (96, 112) and rgb.shape == (96, 112, 3)
        anns = [a for a in coco['annotations'] if a['image_id'] == img['id']]
        assert 1 <= len(anns) <= 3
        for ann in anns:
            x, y, w, h = map(int, ann['bbox'])
            poly = np.array(ann['segmentation'][0]).reshape(-1, 2).astype(np.int32)
            mask = np.zeros_like(sem)
            cv2.fillPoly(mask, [poly], 1)
            mask = mask.astype(bool)
            # the polygon covers exactly `area` pixels, all labelled with its class in the
            # label map, and the box is tight around them
            assert mask.sum() == ann['area']
            assert np.all(sem[mask] == ann['category_id'])
            ys, xs = np.nonzero(mask)
            assert (xs.min(), ys.min(), xs.max() + 1 - x, ys.max() + 1 - y) == (x, y, w, h)
            labels_seen.add(ann['category_id'])
        assert (sem > 0).sum() == sum(a['area'] for a in anns)
    assert labels_seen == {1, 2, 3}
