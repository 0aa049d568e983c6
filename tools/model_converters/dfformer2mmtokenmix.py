"""Convert an official DFFormer / CDFFormer checkpoint for mmtokenmix's mmdet 3.x / mmseg 1.x
models.

    python tools/model_converters/dfformer2mmtokenmix.py SRC DST [--nominal-size N]
        [--config CONFIG] [--mmpretrain]

SRC: a released ImageNet file (``dfformer_s18.pth``, ``cdfformer_m36.pth``, ...; filter bases
for 224), a backbone-only state dict, or a whole checkpoint of the official mmdet 2.x RetinaNet
/ mmseg 0.x Semantic FPN models (filter bases at 800 / 512). ``--nominal-size`` resizes the
filter bases (bicubic, ``align_corners=True``, as upstream) to the size our configs store them
for: 800 for COCO detection, 512 for ADE20K, 1024 for Cityscapes; default: keep the
checkpoint's. The backbone part is checked strictly; with ``--config`` the whole file is
checked against that config's model. A converted whole checkpoint is evaluated with
``tools/test.py CONFIG DST`` (the matching config is printed). ``--mmpretrain`` turns an
ImageNet file into the checkpoint of the mmpretrain classifier
``configs/classifier_<family>_<arch>_in1k.py`` (filter bases for 224).
"""

import argparse

from mmtokenmix.converters.cli import converter_main
from mmtokenmix.converters.dfformer import (
    CONFIG_PATTERNS,
    convert_dfformer_checkpoint,
    detect_dfformer,
)
from mmtokenmix.converters.mmpretrain import mmpretrain_conversion


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f'must be a positive number of pixels, got {text}')
    return value


def add_arguments(parser):
    parser.add_argument(
        '--nominal-size',
        type=positive_int,
        help='store the filter bases for this input size (default: as in SRC)',
    )


def convert(checkpoint, args):
    if args.mmpretrain:
        if args.nominal_size not in (None, 224):
            raise SystemExit('--mmpretrain: the classifiers store their filter bases for 224')
        return mmpretrain_conversion(
            checkpoint, lambda sd: '{}_{}'.format(*detect_dfformer(sd)[:2]), source=args.src
        )
    state_dict, info = convert_dfformer_checkpoint(checkpoint, args.nominal_size)
    kind = f'whole {info["model"]} model' if info['whole_model'] else 'backbone'
    name = {'dfformer': 'DFFormer', 'cdfformer': 'CDFFormer'}[info['family']]
    summary = (
        f'{name}-{info["arch"].upper()} ({kind}, filter bases for '
        f'{info["stored_size"]} -> {info["nominal_size"]})'
    )
    pattern = CONFIG_PATTERNS.get(info['model'])
    return state_dict, info, summary, pattern and pattern.format(info['family'], info['arch'])


if __name__ == '__main__':
    converter_main(__doc__, convert, add_arguments=add_arguments)
