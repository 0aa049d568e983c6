"""Draw a model's predictions on images (detection or segmentation, as mmdet's and mmseg's
``demo/image_demo.py``).

    python demo/image_demo.py IMAGE [IMAGE ...] CONFIG CHECKPOINT [--out-dir DIR]
                              [--device cpu] [--score-thr 0.3] [--opacity 0.5]
                              [--min-size 512] [--grid FILE] [--cfg-options k=v ...]
                              [--allow-unsafe-load CHECKPOINT]

CONFIG is any mmtokenmix detection or segmentation config; the checkpoint must fit its model
exactly (a mismatch lists the keys) and is read weights-only. Every IMAGE is checked first (an
empty, truncated or non-image file stops the demo, naming it). For each IMAGE,
``DIR/<name>.png`` (``<name>-2.png``, ... for images of the same name) shows the boxes/masks
with class names and scores (detectors: those above ``--score-thr``) or the segmentation
blended over the image (``--opacity``), drawn by mmdet's ``DetLocalVisualizer`` / mmseg's
``SegLocalVisualizer``; images smaller than ``--min-size`` are drawn enlarged (the prediction
itself is made at the image's size). With several images, ``--grid FILE`` also writes them
side by side in one picture.
"""

import argparse
import os
import os.path as osp
import sys


def parse_args(argv=None):
    from mmengine.config import DictAction

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('inputs', nargs='+', help='IMAGE [IMAGE ...] CONFIG CHECKPOINT')
    parser.add_argument('--out-dir', default='outputs', help='where the pictures go')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda:0'")
    parser.add_argument(
        '--score-thr', type=float, default=0.3, help='detections below this score are not drawn'
    )
    parser.add_argument(
        '--opacity', type=float, default=0.5, help='segmentation: opacity of the drawn classes'
    )
    parser.add_argument(
        '--min-size',
        type=int,
        default=512,
        help='images smaller than this (short side) are drawn enlarged to it, '
        'so that labels stay legible; the prediction is made at the '
        "image's own size (0: never enlarge)",
    )
    parser.add_argument('--grid', help='also write all pictures side by side to this file')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.test_cfg.score_thr=0.0',
    )
    from mmtokenmix.runtime import add_loading_args

    add_loading_args(parser)
    args = parser.parse_args(argv)
    if len(args.inputs) < 3:
        parser.error('give IMAGE [IMAGE ...] CONFIG CHECKPOINT')
    *args.images, args.config, args.checkpoint = args.inputs
    for path in [args.config, args.checkpoint]:
        if not osp.isfile(path):
            parser.error(f'no such file: {path}')
    from mmtokenmix.datasets.image_files import image_file_problem

    for path in args.images:
        problem = image_file_problem(path)
        if problem:
            parser.error(f'image {path!r} {problem}')
    return args


def output_files(images, out_dir: str):
    """``out_dir/<name>.png`` for each image; images whose names are the same (``a/x.jpg``,
    ``b/x.png``) get ``<name>-2.png``, ``<name>-3.png``, ... instead of overwriting each other's
    picture."""
    files, taken = [], set()
    for image in images:
        stem = osp.splitext(osp.basename(image))[0]
        name, n = f'{stem}.png', 1
        while name in taken:
            n += 1
            name = f'{stem}-{n}.png'
        taken.add(name)
        files.append(osp.join(out_dir, name))
    return files


def build_model(config: str, checkpoint: str, device: str, cfg_options: dict = None):
    """The config's model with the checkpoint (strictly checked), ready for inference, and the
    toolbox (``'mmdet'`` / ``'mmseg'``) that runs it."""
    from mmengine.config import Config

    from mmtokenmix.config_utils import detect_default_scope
    from mmtokenmix.runtime import check_checkpoint_fits

    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    scope = detect_default_scope(cfg)
    cfg.model.backbone.init_cfg = None  # the checkpoint holds the backbone too
    if scope == 'mmdet':
        from mmdet.apis import init_detector

        model = init_detector(cfg, checkpoint, device=device)
    else:
        from mmseg.apis import init_model

        model = init_model(cfg, checkpoint, device=device)
    check_checkpoint_fits(model, checkpoint)
    from mmtokenmix.checkpoints import load_checkpoint_file

    meta = load_checkpoint_file(checkpoint).get('meta') or {}
    if 'dataset_meta' not in meta:
        # the toolboxes would fall back to COCO / Cityscapes class names: use the config's
        model.dataset_meta = config_dataset_meta(cfg, scope)
    return model, scope


def config_dataset_meta(cfg, scope: str) -> dict:
    """Class names and palette of the config's test dataset."""
    from mmengine.registry import init_default_scope

    init_default_scope(scope)
    if scope == 'mmdet':
        from mmdet.registry import DATASETS
    else:
        from mmseg.registry import DATASETS
    dataset = dict(cfg.test_dataloader.dataset, lazy_init=True, pipeline=[])
    return DATASETS.build(dataset).metainfo


def prepared_for_drawing(img, prediction, scope: str, min_size: int):
    """The image and a copy of its prediction to draw: scaled up so that the short side is
    ``min_size`` (unchanged when it is already that large; boxes scaled, masks and label maps
    enlarged pixel for pixel, so the picture shows exactly the prediction), detections in
    ascending score order."""
    import mmcv
    import torch.nn.functional as F

    factor = max(min_size / min(img.shape[:2]), 1.0)
    if factor > 1:
        img = mmcv.imrescale(img, factor, interpolation='bicubic')
    size = img.shape[:2]
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData

        # least confident first: where boxes overlap, the most confident label is drawn last,
        # on top (mmdet draws in the given order, highest score first)
        pred = prediction.pred_instances[prediction.pred_instances.scores.argsort()]
        fields = dict(bboxes=pred.bboxes * factor, scores=pred.scores, labels=pred.labels)
        if 'masks' in pred:
            fields['masks'] = F.interpolate(pred.masks[None].float(), size=size, mode='nearest')[
                0
            ].bool()
        return img, DetDataSample(pred_instances=InstanceData(**fields))
    if factor == 1:
        return img, prediction
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample

    labels = F.interpolate(prediction.pred_sem_seg.data[None].float(), size=size, mode='nearest')[
        0
    ].long()
    return img, SegDataSample(pred_sem_seg=PixelData(data=labels))


def draw(
    model,
    scope: str,
    image: str,
    out_file: str,
    score_thr: float,
    opacity: float,
    min_size: int = 0,
):
    import mmcv
    from mmengine.registry import init_default_scope

    init_default_scope(scope)
    img = mmcv.imread(image, channel_order='rgb')
    if scope == 'mmdet':
        from mmdet.apis import inference_detector
        from mmdet.registry import VISUALIZERS

        result = inference_detector(model, image)
        img, drawn = prepared_for_drawing(img, result, scope, min_size)
        visualizer = VISUALIZERS.build(
            dict(model.cfg.visualizer, name=f'demo_{id(model)}', vis_backends=None)
        )
        visualizer.dataset_meta = model.dataset_meta
        visualizer.add_datasample(
            'prediction',
            img,
            data_sample=drawn,
            draw_gt=False,
            show=False,
            pred_score_thr=score_thr,
            out_file=out_file,
        )
        kept = (result.pred_instances.scores >= score_thr).sum().item()
        return f'{kept} detections >= {score_thr}'
    from mmseg.apis import inference_model
    from mmseg.registry import VISUALIZERS

    result = inference_model(model, image)
    img, drawn = prepared_for_drawing(img, result, scope, min_size)
    visualizer = VISUALIZERS.build(
        dict(model.cfg.visualizer, name=f'demo_{id(model)}', vis_backends=None, alpha=opacity)
    )
    visualizer.dataset_meta = model.dataset_meta
    visualizer.add_datasample(
        'prediction', img, data_sample=drawn, draw_gt=False, show=False, out_file=out_file
    )
    classes = result.pred_sem_seg.data.unique().tolist()
    names = model.dataset_meta['classes']
    return 'classes ' + ', '.join(names[c] for c in classes if c < len(names))


def write_grid(files, out_file: str, min_height: int = 256):
    """The pictures side by side, scaled to the same height (at least ``min_height``)."""
    import mmcv
    import numpy as np

    images = [mmcv.imread(f) for f in files]
    height = max([min_height] + [i.shape[0] for i in images])
    images = [mmcv.imrescale(i, (10**6, height)) if i.shape[0] != height else i for i in images]
    gap = np.full((height, 4, 3), 255, dtype=np.uint8)
    row = [images[0]]
    for image in images[1:]:
        row += [gap, image[:height]]
    mmcv.imwrite(np.concatenate(row, axis=1), out_file)


def main(argv=None):
    args = parse_args(argv)
    from mmtokenmix.checkpoints import (
        CheckpointFileError,
        CheckpointMismatchError,
        trust_file_for_unpickling,
    )

    trust_file_for_unpickling(args.allow_unsafe_load)
    from mmtokenmix.compat import patch_torch_for_cpu

    patch_torch_for_cpu()
    try:
        model, scope = build_model(args.config, args.checkpoint, args.device, args.cfg_options)
    except (CheckpointFileError, CheckpointMismatchError) as e:
        sys.exit(f'error: {e}')
    os.makedirs(args.out_dir, exist_ok=True)
    written = []
    for image, out_file in zip(args.images, output_files(args.images, args.out_dir)):
        summary = draw(model, scope, image, out_file, args.score_thr, args.opacity, args.min_size)
        print(f'{image} -> {out_file} ({summary})')
        written.append(out_file)
    if args.grid:
        write_grid(written, args.grid)
        print(f'all pictures -> {args.grid}')


if __name__ == '__main__':
    main()
