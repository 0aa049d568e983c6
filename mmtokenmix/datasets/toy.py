"""A small synthetic detection/segmentation dataset, generated deterministically from a seed.

Each image shows 1-4 non-overlapping shapes (circle, square, triangle) in random colours on a
textured background (stripes, gradient and noise). Written as::

    <root>/images/{train,val}/000000.png     RGB images
    <root>/annotations/instances_{train,val}.json   COCO: boxes, polygon masks, areas
    <root>/masks/{train,val}/000000.png      semantic label maps: 0 background, 1..3 classes

so the same files drive RetinaNet/Mask R-CNN/YOLOv3 (COCO json) and mmseg heads (label maps).

:func:`make_toy_classification` writes a classification set of the same drawings in
ImageNet's folder layout: one shape per image on the same backgrounds, the class is its
shape::

    <root>/{train,val}/<class>/000000.png      RGB images, one folder per class
    <root>/meta/{train,val}.txt                 "<class>/<file> <label>" per line (ImageNet's)
    <root>/meta/classes.txt                     the class names, one per line, label order

Only numpy and OpenCV are needed.
"""

import json
import os
import os.path as osp
from typing import Dict, List

import cv2
import numpy as np

CLASSES = ('circle', 'square', 'triangle')


def _background(rng: np.random.RandomState, h: int, w: int) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    angle = rng.uniform(0, np.pi)
    freq = rng.uniform(0.05, 0.3)
    stripes = np.sin(freq * (np.cos(angle) * xx + np.sin(angle) * yy))
    gradient = (xx * rng.uniform(-1, 1) + yy * rng.uniform(-1, 1)) / max(h, w)
    img = np.empty((h, w, 3), np.float32)
    for c in range(3):
        base = rng.uniform(60, 190)
        img[..., c] = (
            base + 25 * stripes * rng.uniform(0.3, 1) + 40 * gradient + rng.normal(0, 12, (h, w))
        )
    return img


def _shape_polygon(
    rng: np.random.RandomState, label: int, cx: float, cy: float, r: float
) -> np.ndarray:
    if label == 0:  # circle, as a 32-gon so that drawing, mask and polygon agree exactly
        t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
        pts = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)
    else:
        n = 4 if label == 1 else 3
        t = rng.uniform(0, 2 * np.pi) + np.arange(n) * 2 * np.pi / n
        pts = np.stack([cx + r * np.cos(t), cy + r * np.sin(t)], 1)
    return np.round(pts).astype(np.int32)


def _make_image(rng, h, w, max_objects):
    img = _background(rng, h, w)
    sem = np.zeros((h, w), np.uint8)
    taken = np.zeros((h, w), bool)
    objects = []
    for _ in range(rng.randint(1, max_objects + 1)):
        for _attempt in range(20):  # rejection sampling: shapes never overlap
            label = rng.randint(len(CLASSES))
            r = rng.uniform(0.12, 0.28) * min(h, w)
            cx, cy = rng.uniform(r, w - r), rng.uniform(r, h - r)
            pts = _shape_polygon(rng, label, cx, cy, r)
            mask = np.zeros((h, w), np.uint8)
            cv2.fillPoly(mask, [pts], 1)
            mask = mask.astype(bool)
            if mask.sum() < 16 or (mask & taken).any():
                continue
            taken |= mask
            colour = rng.uniform(0, 255, 3)
            texture = rng.normal(0, 10, (h, w, 1))
            img[mask] = colour + texture[mask]
            sem[mask] = label + 1
            objects.append((label, pts, mask))
            break
    return np.clip(img, 0, 255).astype(np.uint8), sem, objects


def make_toy_dataset(
    root: str,
    num_train: int = 256,
    num_val: int = 64,
    size=(128, 128),
    max_objects: int = 3,
    seed: int = 0,
) -> Dict[str, str]:
    """Write the dataset under ``root`` (see the module docstring); returns its paths.

    The same ``seed`` always gives byte-identical files.
    """
    h, w = size
    rng = np.random.RandomState(seed)
    categories = [dict(id=i + 1, name=n, supercategory='shape') for i, n in enumerate(CLASSES)]
    os.makedirs(osp.join(root, 'annotations'), exist_ok=True)
    paths = {}
    ann_id = 1
    for split, count in (('train', num_train), ('val', num_val)):
        img_dir = osp.join(root, 'images', split)
        sem_dir = osp.join(root, 'masks', split)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(sem_dir, exist_ok=True)
        images: List[dict] = []
        annotations: List[dict] = []
        for idx in range(count):
            img, sem, objects = _make_image(rng, h, w, max_objects)
            name = f'{idx:06d}.png'
            cv2.imwrite(osp.join(img_dir, name), img[..., ::-1])  # RGB -> BGR for OpenCV
            cv2.imwrite(osp.join(sem_dir, name), sem)
            image_id = len(images) + 1
            images.append(dict(id=image_id, file_name=name, height=h, width=w))
            for label, pts, mask in objects:
                ys, xs = np.nonzero(mask)
                x0, y0 = float(xs.min()), float(ys.min())
                bw, bh = float(xs.max() + 1 - x0), float(ys.max() + 1 - y0)
                annotations.append(
                    dict(
                        id=ann_id,
                        image_id=image_id,
                        category_id=label + 1,
                        iscrowd=0,
                        bbox=[x0, y0, bw, bh],
                        area=float(mask.sum()),
                        segmentation=[pts.astype(float).flatten().tolist()],
                    )
                )
                ann_id += 1
        ann_file = osp.join(root, 'annotations', f'instances_{split}.json')
        with open(ann_file, 'w') as f:
            json.dump(dict(images=images, annotations=annotations, categories=categories), f)
        paths[split] = ann_file
    return paths


def make_toy_classification(
    root: str, num_train: int = 512, num_val: int = 128, size=(128, 128), seed: int = 0
) -> Dict[str, str]:
    """Write the classification set under ``root`` (see the module docstring); returns the
    paths of its annotation files (``train``, ``val``, ``classes``).

    Each image has exactly one shape; its class is drawn uniformly, so the splits are
    balanced up to sampling. The same ``seed`` always gives byte-identical files.
    """
    h, w = size
    rng = np.random.RandomState(seed)
    os.makedirs(osp.join(root, 'meta'), exist_ok=True)
    paths = {'classes': osp.join(root, 'meta', 'classes.txt')}
    with open(paths['classes'], 'w') as f:
        f.write(''.join(f'{name}\n' for name in CLASSES))
    for split, count in (('train', num_train), ('val', num_val)):
        for name in CLASSES:
            os.makedirs(osp.join(root, split, name), exist_ok=True)
        lines = []
        for idx in range(count):
            objects = []
            while len(objects) != 1:  # (placing one shape on an empty image never fails)
                img, _, objects = _make_image(rng, h, w, max_objects=1)
            label = objects[0][0]
            rel = f'{CLASSES[label]}/{idx:06d}.png'
            cv2.imwrite(osp.join(root, split, rel), img[..., ::-1])  # RGB -> BGR for OpenCV
            lines.append(f'{rel} {label}\n')
        paths[split] = osp.join(root, 'meta', f'{split}.txt')
        with open(paths[split], 'w') as f:
            f.write(''.join(lines))
    return paths
