"""Inference speed of XFormer next to mmdet's MobileNetV2 and mmseg's MiT-B0 with the same heads:
the SegFormer all-MLP decoder at Cityscapes resolution (1024x2048) and the lightweight YOLOv3 at
320 and 416 (the paper reports 15.3 FPS for XFormer + all-MLP decoder on Cityscapes).

    python tools/analysis_tools/benchmark_xformer.py [--repeats 3] [--device cpu|cuda]
        [--doc PAGE SECTION]

Each model is built from our config with only the backbone (and the neck/decoder input widths)
swapped, randomly initialised, in eval mode, batch 1; the time is one network forward
(``mode='tensor'``: no data preprocessing, no resize of the logits, no NMS), the median of
``--repeats`` runs after one warm-up (``mmtokenmix.analysis.interleaved_seconds``, the timing
loop of every benchmark tool). Prints a table with each model's FPS and its ratio to
XFormer; ``--doc`` also writes it into the generated section SECTION of the markdown PAGE.
"""

import argparse
import os.path as osp
from functools import partial

import torch

from mmtokenmix.analysis import (
    build_model_from_config,
    count_parameters,
    dummy_data_samples,
    interleaved_seconds,
)
from mmtokenmix.analysis.generated_docs import add_doc_option, check_doc_option, write_doc_option

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# backbone dicts and the widths they hand to the neck (YOLOv3: deepest first) / decoder
BACKBONES = {
    'XFormer': dict(
        det=dict(type='mmtokenmix.XFormer', arch='s', out_indices=(2, 3, 4)),
        det_channels=[160, 128, 96],
        seg=dict(type='mmtokenmix.XFormer', arch='s', out_indices=(1, 2, 3, 4)),
        seg_channels=[64, 96, 128, 160],
    ),
    'MobileNetV2': dict(  # mmdet's, as in yolov3_mobilenetv2 (strides 8/16/32; 4 for seg)
        det=dict(
            type='mmdet.MobileNetV2',
            out_indices=(2, 4, 6),
            act_cfg=dict(type='LeakyReLU', negative_slope=0.1),
        ),
        det_channels=[320, 96, 32],
        seg=dict(type='mmdet.MobileNetV2', out_indices=(1, 2, 4, 6)),
        seg_channels=[24, 32, 96, 320],
    ),
    'MiT-B0': dict(  # mmseg's MixVisionTransformer as in segformer_mit-b0
        det=dict(
            type='mmseg.MixVisionTransformer',
            embed_dims=32,
            num_layers=[2, 2, 2, 2],
            num_heads=[1, 2, 5, 8],
            out_indices=(1, 2, 3),
        ),
        det_channels=[256, 160, 64],
        seg=dict(
            type='mmseg.MixVisionTransformer',
            embed_dims=32,
            num_layers=[2, 2, 2, 2],
            num_heads=[1, 2, 5, 8],
            out_indices=(0, 1, 2, 3),
        ),
        seg_channels=[32, 64, 160, 256],
    ),
}
SETTINGS = [  # (name, config, task, (h, w))
    (
        'SegFormer head, Cityscapes 1024x2048',
        'configs/segformer_xformer_cityscapes.py',
        'seg',
        (1024, 2048),
    ),
    ('YOLOv3 320x320', 'configs/yolov3-320_xformer_coco.py', 'det', (320, 320)),
    ('YOLOv3 416x416', 'configs/yolov3_xformer_coco.py', 'det', (416, 416)),
]


def build(config: str, task: str, backbone: str):
    from mmengine import Config

    cfg = Config.fromfile(osp.join(REPO, config))
    spec = BACKBONES[backbone]
    cfg.model.backbone = spec[task]
    if task == 'det':
        cfg.model.neck.in_channels = spec['det_channels']
    else:
        cfg.model.decode_head.in_channels = spec['seg_channels']
    return build_model_from_config(cfg), ('mmdet' if task == 'det' else 'mmseg')


def seconds_per_forward(model, scope, h, w, repeats, device) -> float:
    model = model.to(device).eval()
    model.forward = partial(
        model.forward, data_samples=dummy_data_samples(scope, h, w), mode='tensor'
    )
    x = torch.randn(1, 3, h, w, device=device)
    with torch.inference_mode():
        return interleaved_seconds(
            {'forward': lambda: model(x)}, repeats=repeats, warmup=1, device=device
        )['forward']['median']


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=3)
    parser.add_argument('--device', choices=['cpu', 'cuda'], default=None)
    add_doc_option(parser)
    args = parser.parse_args(argv)
    check_doc_option(parser, args.doc)
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    from mmengine.logging import MMLogger

    MMLogger.get_instance('benchmark_xformer', log_level='ERROR')
    where = (
        torch.cuda.get_device_name()
        if device == 'cuda'
        else f'CPU, {torch.get_num_threads()} threads'
    )
    lines = [
        f'{where}, batch 1, torch {torch.__version__}',
        '',
        '| setting | backbone | params (M) | s / image | FPS | FPS / XFormer FPS |',
        '|---|---|---|---|---|---|',
    ]
    print('\n'.join(lines))
    for title, config, task, (h, w) in SETTINGS:
        fps = {}
        for backbone in BACKBONES:
            model, scope = build(config, task, backbone)
            sec = seconds_per_forward(model, scope, h, w, args.repeats, device)
            fps[backbone] = 1 / sec
            lines.append(
                f'| {title} | {backbone} | {count_parameters(model) / 1e6:.2f} | {sec:.3f} | '
                f'{fps[backbone]:.2f} | {fps[backbone] / fps["XFormer"]:.2f} |'
            )
            print(lines[-1], flush=True)
    if args.doc:
        write_doc_option(args.doc, '\n'.join(lines), argv, __file__)


if __name__ == '__main__':
    main()
