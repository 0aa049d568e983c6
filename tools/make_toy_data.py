"""Generate the bundled synthetic dataset (COCO json + PNG label maps), deterministically.

python tools/make_toy_data.py [--root data/toy] [--num-train 256] [--num-val 64] [--seed 0]
"""

import argparse

from mmtokenmix.datasets import make_toy_dataset


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--root',
        default='data/toy',
        help='folder to write (the toy configs read data/toy; default %(default)s)',
    )
    parser.add_argument(
        '--num-train', type=int, default=256, help='training images (default %(default)s)'
    )
    parser.add_argument(
        '--num-val', type=int, default=64, help='validation images (default %(default)s)'
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
    paths = make_toy_dataset(
        args.root, args.num_train, args.num_val, tuple(args.size), seed=args.seed
    )
    print(f'toy dataset written to {args.root}: {paths}')


if __name__ == '__main__':
    main()
