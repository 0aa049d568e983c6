"""Params and FLOPs of the detector/segmentor of an mmtokenmix config (two counters).

    python tools/analysis_tools/get_flops.py CONFIG [CONFIG ...] [--shape H W]

Without --shape each config is counted at its paper's input size: 1280x800 (H=800) for COCO
(YOLOv3: its 320 or 416 test size), 512x512 for ADE20K, 1024x1024 for Cityscapes, 128x128 for
the toy set. Works for mmdet and mmseg configs alike, on CPU,
without the dataset (mmseg 1.2.2's own get_flops.py is broken with mmengine 0.10).
"GFLOPs" is mmengine's counter (traces every operator, matrix products included); "hook GFLOPs"
counts modules only with the rules of mmcv 1.x's counter (no attention matmuls, softmax, FFT),
the way most papers of that era report FLOPs.
"""

import argparse
import os.path as osp

from mmtokenmix.analysis import model_complexity


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('configs', nargs='+')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'))
    args = parser.parse_args(argv)
    from mmengine.config import Config
    from mmengine.logging import MMLogger

    # the counter logs every operator it does not count (elementwise ops, NMS, RoIAlign) as a
    # warning; keep the table readable
    MMLogger.get_instance('get_flops', log_level='ERROR')
    print(
        f'{"config":45s} {"input HxW":>11s} {"params (M)":>11s} {"GFLOPs":>9s} {"hook GFLOPs":>12s}'
    )
    for path in args.configs:
        cfg = Config.fromfile(path)
        r = model_complexity(cfg, args.shape)
        name = osp.splitext(osp.basename(path))[0]
        print(
            f'{name:45s} {r["h"]:>5d}x{r["w"]:<5d} {r["params"] / 1e6:11.2f} '
            f'{r["flops"] / 1e9:9.1f} {r["hook_flops"] / 1e9:12.2f}',
            flush=True,
        )


if __name__ == '__main__':
    main()
