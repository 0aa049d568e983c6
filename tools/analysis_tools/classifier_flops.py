"""Params and FLOPs of ImageNet classifiers registered in timm (ours after importing
mmtokenmix.models, and timm's own, e.g. the comparators of a paper's table), two counters.

    python tools/analysis_tools/classifier_flops.py dmformer_s poolformer_s24 convnext_tiny \
        [--size 224]

Random weights, nothing downloaded. "GFLOPs" is mmengine's counter (every operator, matrix
products included); "hook GFLOPs" counts modules with mmcv 1.x's rules (convs, linear layers,
norms, ReLU-family activations, pooling; no GELU, matmul, softmax, FFT), close to how the
papers of that era report multiply-adds.
"""

import argparse

from mmtokenmix.analysis import module_complexity


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('models', nargs='+', help='timm model names')
    parser.add_argument('--size', type=int, default=224, help='square input side')
    args = parser.parse_args(argv)
    import timm
    import torch
    from mmengine.logging import MMLogger

    import mmtokenmix.models  # noqa: F401  (registers our timm names)

    MMLogger.get_instance('classifier_flops', log_level='ERROR')
    print(f'| model | params (M) | GFLOPs @{args.size} (mmengine) | hook GFLOPs |')
    print('|---|---|---|---|')
    for name in args.models:
        model = timm.create_model(name, pretrained=False).eval()
        r = module_complexity(model, (torch.zeros(1, 3, args.size, args.size),))
        print(
            f'| {name} | {r["params"] / 1e6:.2f} | {r["flops"] / 1e9:.2f} | '
            f'{r["hook_flops"] / 1e9:.2f} |',
            flush=True,
        )


if __name__ == '__main__':
    main()
