"""Convert an official TransXNet checkpoint for mmtokenmix's mmdet 3.x / mmseg 1.x models.

    python tools/model_converters/transxnet2mmtokenmix.py SRC DST [--config CONFIG]

SRC: an ImageNet file (``transx-t.pth.tar``: raw dict, ``state_dict``, ``model`` or
``state_dict_ema``), a backbone-only state dict, or a whole mmdet 2.x / mmseg 0.x checkpoint
(COCO ``retinanet_tiny.pth`` / ``maskrcnn_tiny.pth``, ADE20K ``sfpn_transxnet_tiny.pth``).
A converted whole checkpoint is evaluated with ``tools/test.py CONFIG DST`` (the matching
config is printed); an ImageNet one is used with ``load_from=DST`` or the backbone's
``init_cfg``. The backbone part is always checked strictly; with ``--config`` the whole file is
checked against that config's model. A mismatch lists the keys.
"""
import argparse
import os.path as osp
import sys

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmtokenmix.checkpoints import check_state_dict, load_checkpoint_file  # noqa: E402
from mmtokenmix.checkpoints.transxnet import (CONFIG_PATTERNS,  # noqa: E402
                                              convert_transxnet_checkpoint)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--config', help='check DST against the model of this config')
    args = parser.parse_args(argv)
    state_dict, info = convert_transxnet_checkpoint(load_checkpoint_file(args.src))
    if args.config:
        if not info['whole_model']:
            parser.error('--config checks whole detector/segmentor checkpoints; SRC is a '
                         'backbone checkpoint (checked already)')
        from mmengine import Config

        from mmtokenmix.analysis import build_model_from_config
        check_state_dict(build_model_from_config(Config.fromfile(args.config)), state_dict,
                         source=args.src)
    torch.save(dict(state_dict=state_dict, meta=dict(converted_from=osp.basename(args.src),
                                                     **info)), args.dst)
    kind = f'whole {info["model"]} model' if info['whole_model'] else 'backbone'
    print(f'TransXNet-{info["arch"].upper()} ({kind}, image_size {info["image_size"]}): '
          f'{len(state_dict)} tensors -> {args.dst}')
    if args.config:
        print(f'matches the model of {args.config}')
    elif info.get('model') in CONFIG_PATTERNS:
        config = CONFIG_PATTERNS[info['model']].format(info['arch'])
        print(f'evaluate with: python tools/test.py {config} {args.dst}')


if __name__ == '__main__':
    main()
