import glob
import hashlib
import json
import os.path as osp

import cv2
import numpy as np
import pytest
from conftest import load_tool

from mmtokenmix.datasets import TOY_CLASSES, make_toy_classification, make_toy_dataset


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


def _read_meta(path):
    with open(path) as f:
        return [(line.split()[0], int(line.split()[1])) for line in f if line.strip()]


def test_classification_set_layout_labels_and_drawings_agree(tmp_path):
    """ImageNet's folder layout: one folder per class, meta/{train,val}.txt "class/file label",
    meta/classes.txt in label order; every file is the drawing the generator made, and its
    label is the shape in that drawing's label map; classes are about balanced."""
    from mmtokenmix.datasets.toy import _make_image

    root = tmp_path / 'cls'
    paths = make_toy_classification(str(root), num_train=60, num_val=12, size=(64, 80), seed=5)
    assert (root / 'meta' / 'classes.txt').read_text().split() == list(TOY_CLASSES)
    rng = np.random.RandomState(5)  # the generator's draws, replayed
    for split, count in (('train', 60), ('val', 12)):
        entries = _read_meta(paths[split])
        assert len(entries) == count
        on_disk = sorted(
            osp.relpath(p, root / split) for p in glob.glob(str(root / split / '*' / '*.png'))
        )
        assert on_disk == sorted(rel for rel, _ in entries)
        for rel, label in entries:
            assert rel.split('/')[0] == TOY_CLASSES[label]
            objects = []
            while len(objects) != 1:
                img, sem, objects = _make_image(rng, 64, 80, max_objects=1)
            assert set(np.unique(sem)) == {0, label + 1}  # the drawn shape is the label
            written = cv2.imread(str(root / split / rel))[..., ::-1]
            assert written.shape == (64, 80, 3) and np.array_equal(written, img)
        if split == 'train':
            counts = np.bincount([label for _, label in entries], minlength=3)
            assert counts.min() >= 10, counts  # uniform classes: 20 expected each


def test_classification_set_is_deterministic_and_the_tool_writes_it(tmp_path):
    make_toy_classification(str(tmp_path / 'a'), 6, 3, seed=0)
    make_toy_classification(str(tmp_path / 'b'), 6, 3, seed=0)
    make_toy_classification(str(tmp_path / 'c'), 6, 3, seed=1)

    def files(root):
        return {
            osp.relpath(p, root): open(p, 'rb').read()
            for p in glob.glob(osp.join(root, '**', '*.*'), recursive=True)
        }

    assert files(str(tmp_path / 'a')) == files(str(tmp_path / 'b'))
    assert files(str(tmp_path / 'a')) != files(str(tmp_path / 'c'))
    tool = load_tool('tools/make_toy_data.py')
    tool.main(
        ['--classification', '--root', str(tmp_path / 'd'), '--num-train', '4', '--num-val', '2']
    )
    assert len(_read_meta(tmp_path / 'd' / 'meta' / 'train.txt')) == 4
    assert not (tmp_path / 'd' / 'annotations').exists()  # not the detection set
    with pytest.raises(SystemExit):
        tool.main(['--classification', '--root', str(tmp_path / 'e'), '--num-train', '0'])
    assert not (tmp_path / 'e').exists()
