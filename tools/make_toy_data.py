"""Generate the bundled synthetic dataset (COCO json + PNG label maps), deterministically.

python tools/make_toy_data.py [--root data/toy] [--num-train 256] [--num-val 64] [--seed 0]
python tools/make_toy_data.py --classification [--root data/toy_cls] [--num-train 512]
    [--num-val 128]

``--classification`` writes the classification set instead: one shape per image, in
ImageNet's folder layout (``<root>/{train,val}/<class>/``, ``<root>/meta/{train,val}.txt``).
"""

import argparse

from mmtokenmix.datasets import make_toy_classification, make_toy_dataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--classification',
        action='store_true',
        help='write the classification set (ImageNet folder layout) instead',
    )
    parser.add_argument(
        '--root',
        help='folder to write (default data/toy, the toy configs\' folder; data/toy_cls with '
        '--classification)',
    )
    parser.add_argument(
        '--num-train', type=int, help='training images (default 256; 512 with --classification)'
    )
    parser.add_argument(
        '--num-val', type=int, help='validation images (default 64; 128 with --classification)'
    )
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(128, 128),
        metavar=('H', 'W'),
        help='image height and width (default 128 128)',
    )
    parser.add_argument(
        '--seed',
        type=int,
        default=0,
        help='random seed: the same seed writes the same files (default 0)',
    )
    args = parser.parse_args(argv)
    if args.classification:
        root = args.root or 'data/toy_cls'
        defaults = (512, 128)
        make = make_toy_classification
    else:
        root = args.root or 'data/toy'
        defaults = (256, 64)
        make = make_toy_dataset
    num_train, num_val = (
        default if given is None else given
        for given, default in zip((args.num_train, args.num_val), defaults)
    )
    for name, value in (('--num-train', num_train), ('--num-val', num_val)):
        if value < 1:
            parser.error(f'{name} must be at least 1, got {value}')
    paths = make(root, num_train, num_val, tuple(args.size), seed=args.seed)
    kind = 'classification set' if args.classification else 'dataset'
    print(f'toy {kind} written to {root}: {paths}')


if __name__ == '__main__':
    main()
