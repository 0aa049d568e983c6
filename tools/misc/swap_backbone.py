"""Print what changes when one of our backbones replaces a stock config's backbone.

    python tools/misc/swap_backbone.py STOCK_CONFIG TYPE [--arch ARCH] [--out FILE]
    python tools/misc/swap_backbone.py --table

STOCK_CONFIG: a path or ``mmdet::retinanet/retinanet_r50_fpn_1x_coco.py`` /
``mmseg::upernet/upernet_r50_4xb4-160k_ade20k-512x512.py``; TYPE: ``mmtokenmix.TransXNet``,
``mmtokenmix.DFFormer``, ... Prints the stock backbone's maps and ours (width and stride), the
``out_indices`` and widths to use and a leaf config that inherits the stock one (written to
``--out`` if given; an existing file is never replaced). ``--table`` prints the stage widths of
every named variant as a Markdown table. Builds both backbones once on a 128x128 input;
nothing else is read or written.
"""

import argparse
import os.path as osp
import sys

FAMILIES = ('TransXNet', 'DFFormer', 'CDFFormer', 'XFormer', 'DMFormer')


def print_table():
    from mmtokenmix.backbone_swap import backbone_widths_table
    from mmtokenmix.registry import MODELS

    entries = [(family, arch) for family in FAMILIES for arch in MODELS.get(family).arch_settings]
    print('| type | arch | widths (stage 0 ... last) | strides |')
    print('|---|---|---|---|')
    for row in backbone_widths_table(entries):
        print(f"| mmtokenmix.{row['type']} | {row['arch']} | {row['widths']} | {row['strides']} |")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', nargs='?', help='stock config (path or mmdet::/mmseg::)')
    parser.add_argument('type', nargs='?', help='our backbone, e.g. mmtokenmix.DFFormer')
    parser.add_argument('--arch', help="variant (default: the backbone's default)")
    parser.add_argument('--out', help='write the leaf config here (never over a file)')
    parser.add_argument(
        '--table', action='store_true', help='print the widths of every variant and exit'
    )
    args = parser.parse_args(argv)

    import mmtokenmix.models  # noqa: F401  (registers the backbones)

    if args.table:
        print_table()
        return
    if not (args.config and args.type):
        parser.error('give STOCK_CONFIG and TYPE (or --table)')
    if args.out and osp.exists(args.out):
        sys.exit(f'error: {args.out} exists; it is left alone')
    from mmengine import Config

    from mmtokenmix.backbone_swap import stock_config_path, swap_backbone, swap_config_text

    backbone = dict(type=args.type if '.' in args.type else f'mmtokenmix.{args.type}')
    if args.arch:
        backbone['arch'] = args.arch
    try:
        cfg = Config.fromfile(stock_config_path(args.config))
        plan = swap_backbone(cfg, backbone)
    except (KeyError, ValueError) as e:
        sys.exit(f'error: {e}')
    print(f'stock {plan.stock_type}: (width, stride) of its maps {plan.stock_maps}')
    print(f'{backbone["type"]}: (width, stride) of every stage {plan.our_maps}')
    print(f'use out_indices={plan.out_indices} (widths {plan.widths})')
    for path, old, new in plan.changes:
        print(f'  {path}: {old!r} -> {new!r}')
    for note in plan.notes:
        print(f'note: {note}')
    text = swap_config_text(args.config, backbone, plan)
    print('\n' + text, end='')
    if args.out:
        with open(args.out, 'x') as f:
            f.write(text)
        print(f'\nwritten to {args.out}')


if __name__ == '__main__':
    main()
