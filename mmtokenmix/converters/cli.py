"""The command line shared by ``tools/model_converters/*2mmtokenmix.py``."""

import argparse
import os.path as osp
from typing import Callable, Optional, Tuple

from mmtokenmix.checkpoints.files import atomic_save, load_checkpoint_file
from mmtokenmix.checkpoints.loading import check_state_dict

# convert(checkpoint, args) -> (state dict, info, one-line summary, config to evaluate or None)
Converter = Callable[[dict, argparse.Namespace], Tuple[dict, dict, str, Optional[str]]]


def converter_main(
    doc: str,
    convert: Converter,
    argv=None,
    add_arguments: Callable[[argparse.ArgumentParser], None] = None,
):
    """Parse ``SRC DST [--config CONFIG] [--mmpretrain]`` (plus ``add_arguments``), convert SRC,
    check the result against the config's model when ``--config`` is given (whole
    detector/segmentor checkpoints, or mmpretrain classifiers), save
    ``dict(state_dict=..., meta=...)`` to DST and say how to use it."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument('src', help='official checkpoint')
    parser.add_argument('dst', help='output path')
    parser.add_argument('--config', help='check DST against the model of this config')
    parser.add_argument(
        '--allow-unsafe-load',
        action='store_true',
        help='fully unpickle SRC, which runs any code the file names: only '
        'for a legacy file from a source you trust',
    )
    parser.add_argument(
        '--mmpretrain',
        action='store_true',
        help='SRC is an ImageNet file: write the mmpretrain ImageClassifier checkpoint of '
        'configs/classifier_<model>_in1k.py instead (backbone. and head. keys)',
    )
    if add_arguments:
        add_arguments(parser)
    args = parser.parse_args(argv)
    if osp.exists(args.dst) and osp.exists(args.src) and osp.samefile(args.src, args.dst):
        parser.error(
            f'DST {args.dst!r} is SRC: converting in place would overwrite the '
            'official file; give another output path'
        )
    checkpoint = load_checkpoint_file(args.src, allow_unsafe=args.allow_unsafe_load)
    state_dict, info, summary, config = convert(checkpoint, args)
    if args.config:
        if not info['whole_model'] and not args.mmpretrain:
            parser.error(
                '--config checks whole detector/segmentor checkpoints; SRC is a '
                'backbone checkpoint (checked already)'
            )
        from mmengine import Config

        from mmtokenmix.analysis import build_model_from_config

        check_state_dict(
            build_model_from_config(Config.fromfile(args.config)), state_dict, source=args.src
        )
    meta = dict(converted_from=osp.basename(args.src), **info)
    atomic_save(dict(state_dict=state_dict, meta=meta), args.dst)
    print(f'{summary}: {len(state_dict)} tensors -> {args.dst}')
    if args.config:
        print(f'matches the model of {args.config}')
    elif config:
        print(f'evaluate with: python tools/test.py {config} {args.dst}')
