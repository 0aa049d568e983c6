"""Check a config's datasets before a long run: missing, empty, truncated or non-image files,
images without annotations, invalid boxes, labels outside the classes, segmentation maps that
do not match.

    python tools/misc/check_dataset.py CONFIG [--splits train val test] [--data-root DIR]
                                       [--max-images N] [--strict]

Every image (and label map) is decoded completely (Pillow): a missing, empty, truncated or
non-image file is an error naming it. Detection (COCO-style ``ann_file``): annotations point at
listed images and at categories the file lists; categories the config's classes do not include
(mmdet would drop them silently) are reported; boxes whose coordinates are not finite numbers
are errors; boxes with zero width or height are counted (mmdet ignores them), and so are images
whose every box is such (they train as background only); images without any annotation are
counted (mmdet's ``filter_empty_gt`` drops them from training). Segmentation (mmseg
datasets): every image has its label map, the map has the image's size, and its values are
class indices or the ignore index (255; after ``reduce_zero_label`` 0 becomes 255, the rest
shift down by one); maps with no labelled pixel are counted.

Errors (missing files, labels out of range, unreadable annotations, size mismatches) make the
exit status 1; the counts of empty images and zero-area boxes are warnings (errors with
``--strict``). ``--max-images N`` checks the first N images of each split (label maps are
read in full, which for ADE20K's 20k training maps takes a few minutes).
"""

import argparse
import json
import math
import os.path as osp
import sys
from collections import Counter

SHOWN = 5  # examples listed per problem


class Report:
    def __init__(self, split: str):
        self.split = split
        self.errors, self.warnings = Counter(), Counter()
        self.examples = {}
        self.checked = 0

    def add(self, kind: str, example: str, error: bool = True):
        (self.errors if error else self.warnings)[kind] += 1
        self.examples.setdefault(kind, [])
        if len(self.examples[kind]) < SHOWN:
            self.examples[kind].append(example)

    def print(self):
        status = (
            'ok'
            if not self.errors and not self.warnings
            else f'{sum(self.errors.values())} errors, {sum(self.warnings.values())} warnings'
        )
        print(f'[{self.split}] {self.checked} images checked: {status}')
        for counter, word in ((self.errors, 'error'), (self.warnings, 'warning')):
            for kind, count in counter.items():
                print(f'  {word}: {count} x {kind}: ' + '; '.join(self.examples[kind]))


def _classes(dataset_cfg, dataset_cls) -> tuple:
    metainfo = dataset_cfg.get('metainfo') or {}
    return tuple(metainfo.get('classes') or dataset_cls.METAINFO.get('classes', ()))


def _file_ok(path: str, report: Report, what: str) -> bool:
    if not osp.isfile(path):
        report.add(f'missing {what}', path)
        return False
    if osp.getsize(path) == 0:
        report.add(f'empty {what} file', path)
        return False
    return True


def _image_ok(path: str, report: Report, what: str) -> bool:
    from mmtokenmix.datasets.image_files import image_file_problem

    if not _file_ok(path, report, what):
        return False
    problem = image_file_problem(path)
    if problem:
        report.add(
            f'{what} files that cannot be read (truncated, damaged or not an image)',
            f'{path} {problem}',
        )
        return False
    return True


def _box_problem(box):
    """'invalid' (not four finite numbers), 'zero-area', or None for a usable box."""
    if not (
        isinstance(box, list)
        and len(box) == 4
        and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
            for v in box
        )
    ):
        return 'invalid'
    return 'zero-area' if box[2] <= 0 or box[3] <= 0 else None


def check_coco(dataset_cfg, dataset_cls, report: Report, max_images=None):
    root = dataset_cfg.get('data_root', '') or ''
    ann_file = osp.join(root, dataset_cfg['ann_file'])
    if not _file_ok(ann_file, report, 'annotation file'):
        return
    try:
        with open(ann_file) as f:
            coco = json.load(f)
        images, annotations = coco['images'], coco.get('annotations', [])
        categories = {c['id']: c['name'] for c in coco['categories']}
    except (ValueError, KeyError, TypeError) as e:
        report.add('unreadable annotation file', f'{ann_file}: {type(e).__name__}: {e}')
        return
    classes = set(_classes(dataset_cfg, dataset_cls))
    unused = sorted(n for n in categories.values() if classes and n not in classes)
    if unused:
        report.add(
            'categories the config does not train on (their boxes are dropped)',
            ', '.join(unused[:20]),
            error=False,
        )
    prefix = (dataset_cfg.get('data_prefix') or {}).get('img', '')
    images = images[:max_images] if max_images else images
    image_ids = {im['id'] for im in images}
    annotated, usable = Counter(), Counter()
    for ann in annotations:
        if ann.get('image_id') not in image_ids:
            if not max_images:
                report.add(
                    'annotations of images the file does not list',
                    f'annotation {ann.get("id")} -> image {ann.get("image_id")}',
                )
            continue
        annotated[ann['image_id']] += 1
        if ann.get('category_id') not in categories:
            report.add(
                'labels outside the listed categories',
                f'annotation {ann.get("id")}: category {ann.get("category_id")}',
            )
        box = ann.get('bbox')
        problem = _box_problem(box)
        if problem == 'invalid':
            report.add(
                'boxes that are not four finite numbers [x, y, w, h]',
                f'annotation {ann.get("id")} on image {ann["image_id"]}: {box}',
            )
        elif problem == 'zero-area':
            report.add(
                'zero-area boxes (ignored by mmdet)',
                f'annotation {ann.get("id")} on image {ann["image_id"]}: {box}',
                error=False,
            )
        else:
            usable[ann['image_id']] += 1
    for im in images:
        report.checked += 1
        _image_ok(osp.join(root, prefix, im['file_name']), report, 'image')
        if not annotated[im['id']]:
            report.add(
                'images without annotations (dropped from training by filter_empty_gt)',
                im['file_name'],
                error=False,
            )
        elif not usable[im['id']]:
            report.add(
                'images whose every box is invalid or zero-area (they train as background only)',
                im['file_name'],
                error=False,
            )


def check_segmentation(dataset_cfg, dataset_cls, report: Report, max_images=None):
    import mmcv
    import numpy as np

    settings = {k: v for k, v in dataset_cfg.items() if k not in ('type', 'pipeline')}
    dataset = dataset_cls(**settings, pipeline=[], lazy_init=True)
    try:
        data_list = dataset.load_data_list()
    except (FileNotFoundError, OSError, ValueError) as e:
        report.add('unreadable dataset', f'{type(e).__name__}: {e}')
        return
    if not data_list:
        report.add(
            'no images found',
            f'{dataset_cfg.get("data_root")} '
            f'{dataset_cfg.get("data_prefix")} (suffix {dataset.img_suffix})',
        )
    num_classes = len(dataset.metainfo['classes'])
    ignore = dataset_cfg.get('ignore_index', 255)
    for info in data_list[:max_images] if max_images else data_list:
        report.checked += 1
        image_ok = _image_ok(info['img_path'], report, 'image')
        if not _image_ok(info['seg_map_path'], report, 'label map'):
            continue
        try:
            labels = mmcv.imread(info['seg_map_path'], flag='unchanged', backend='pillow')
        except Exception as e:  # Pillow decoded it, mmcv's conversion did not
            report.add(
                'label map files that cannot be read',
                f'{info["seg_map_path"]}: {type(e).__name__}: {e}',
            )
            continue
        if labels is None or labels.ndim != 2:
            report.add('label maps that are not single-channel images', info['seg_map_path'])
            continue
        if info.get('reduce_zero_label'):
            labels = labels.astype(np.int64)
            labels = np.where(labels == 0, 255, labels - 1)
            labels[labels == 254] = 255
        values = np.unique(labels)
        bad = [int(v) for v in values if v != ignore and not 0 <= v < num_classes]
        if bad:
            report.add(
                f'labels outside 0..{num_classes - 1} and {ignore}',
                f'{info["seg_map_path"]}: {bad[:8]}',
            )
        if (values == ignore).all():
            report.add('label maps without a labelled pixel', info['seg_map_path'], error=False)
        if image_ok:
            height, width = mmcv.imread(info['img_path'], backend='pillow').shape[:2]
            if (height, width) != labels.shape:
                report.add(
                    'label maps whose size differs from the image',
                    f'{info["seg_map_path"]}: {labels.shape} vs {(height, width)}',
                )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument(
        '--splits', nargs='+', default=['train', 'val', 'test'], choices=['train', 'val', 'test']
    )
    parser.add_argument('--data-root', help='check the data under this directory instead')
    parser.add_argument('--max-images', type=int, help='check only the first N per split')
    parser.add_argument('--strict', action='store_true', help='warnings count as errors')
    args = parser.parse_args(argv)

    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmtokenmix.config_utils import dataloader_datasets, detect_default_scope, set_data_root

    cfg = Config.fromfile(args.config)
    if args.data_root:
        set_data_root(cfg, args.data_root)
    scope = detect_default_scope(cfg)
    init_default_scope(scope)
    if scope == 'mmdet':
        import mmdet.datasets  # noqa: F401  (registers the dataset classes)
        from mmdet.registry import DATASETS
    else:
        import mmseg.datasets  # noqa: F401
        from mmseg.registry import DATASETS
    failed, seen = False, []
    for split in args.splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        for dataset_cfg in dataloader_datasets({f'{split}_dataloader': loader}):
            key = (
                dataset_cfg.get('data_root'),
                dataset_cfg.get('ann_file'),
                str(dataset_cfg.get('data_prefix')),
            )
            if key in seen:  # test often is val
                print(f'[{split}] same data as checked above')
                continue
            seen.append(key)
            dataset_cls = DATASETS.get(dataset_cfg['type'])
            if dataset_cls is None:
                sys.exit(f'error: unknown dataset type {dataset_cfg["type"]!r}')
            report = Report(split)
            if 'ann_file' in dataset_cfg and str(dataset_cfg['ann_file']).endswith('.json'):
                check_coco(dataset_cfg, dataset_cls, report, args.max_images)
            else:
                check_segmentation(dataset_cfg, dataset_cls, report, args.max_images)
            report.print()
            failed |= bool(report.errors) or (args.strict and bool(report.warnings))
    if failed:
        sys.exit(1)
    print('no errors')


if __name__ == '__main__':
    main()
