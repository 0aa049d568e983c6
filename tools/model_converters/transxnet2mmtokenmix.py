"""Convert an official TransXNet checkpoint for mmtokenmix's mmdet 3.x / mmseg 1.x models.

    python tools/model_converters/transxnet2mmtokenmix.py SRC DST [--config CONFIG] [--mmpretrain]

SRC: an ImageNet file (``transx-t.pth.tar``: raw dict, ``state_dict``, ``model`` or
``state_dict_ema``), a backbone-only state dict, or a whole mmdet 2.x / mmseg 0.x checkpoint
(COCO ``retinanet_tiny.pth`` / ``maskrcnn_tiny.pth``, ADE20K ``sfpn_transxnet_tiny.pth``).
A converted whole checkpoint is evaluated with ``tools/test.py CONFIG DST`` (the matching
config is printed); an ImageNet one is used with ``load_from=DST`` or the backbone's
``init_cfg``. The backbone part is always checked strictly; with ``--config`` the whole file is
checked against that config's model. A mismatch lists the keys. ``--mmpretrain`` turns an
ImageNet file into the checkpoint of the mmpretrain classifier
``configs/classifier_transxnet_<t|s|b>_in1k.py`` (evaluate it with ``tools/test.py``).
"""

from mmtokenmix.converters.cli import converter_main
from mmtokenmix.converters.mmpretrain import mmpretrain_conversion
from mmtokenmix.converters.transxnet import (
    CONFIG_PATTERNS,
    convert_transxnet_checkpoint,
    detect_transxnet,
)


def convert(checkpoint, args):
    if args.mmpretrain:
        return mmpretrain_conversion(
            checkpoint, lambda sd: 'transxnet_' + detect_transxnet(sd)[0], source=args.src
        )
    state_dict, info = convert_transxnet_checkpoint(checkpoint)
    kind = f'whole {info["model"]} model' if info['whole_model'] else 'backbone'
    summary = f'TransXNet-{info["arch"].upper()} ({kind}, image_size {info["image_size"]})'
    pattern = CONFIG_PATTERNS.get(info.get('model'))
    return state_dict, info, summary, pattern and pattern.format(info['arch'])


if __name__ == '__main__':
    converter_main(__doc__, convert)
