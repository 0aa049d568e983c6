"""Convert an official TransXNet checkpoint for mmtokenmix's mmdet 3.x / mmseg 1.x models.

    python tools/model_converters/transxnet2mmtokenmix.py SRC DST

SRC: an ImageNet file (``transx-t.pth.tar``: raw dict, ``state_dict``, ``model`` or
``state_dict_ema``), a backbone-only state dict, or a whole mmdet 2.x / mmseg 0.x checkpoint
(``retinanet_tiny.pth``: ``backbone.``-prefixed). DST loads with ``load_from=DST`` (or
``tools/test.py CONFIG DST``). The backbone part is checked strictly; a mismatch lists the keys.
"""
import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtokenmix.checkpoints import load_checkpoint_file  # noqa: E402
from mmtokenmix.checkpoints.transxnet import convert_transxnet_checkpoint  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output path')
    args = parser.parse_args(argv)
    state_dict, info = convert_transxnet_checkpoint(load_checkpoint_file(args.src))
    torch.save(dict(state_dict=state_dict, meta=dict(converted_from=osp.basename(args.src),
                                                     **info)), args.dst)
    kind = 'whole model' if info['whole_model'] else 'backbone'
    print(f'TransXNet-{info["arch"].upper()} ({kind}, image_size {info["image_size"]}): '
          f'{len(state_dict)} tensors -> {args.dst}')


if __name__ == '__main__':
    main()
