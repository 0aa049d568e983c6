"""Export a backbone (from a config) or an ImageNet classifier (a timm name) to ONNX and check
the file against onnxruntime.

    python tools/deployment/pytorch2onnx.py MODEL [--checkpoint CKPT] [--shape H W]
                                            [--batch B] [--out FILE] [--opset 17] [--no-verify]

MODEL: a config (``configs/retinanet_transxnet_t_coco.py``: its backbone is exported, outputs
``out0..`` = the feature maps of ``out_indices``) or a timm name of ours (``transxnet_t``,
``dfformer_s18``, ``xformer``, ``dmformer_s``, ...: logits ``out0``). ``--checkpoint``: for a
config, a whole detector/segmentor checkpoint (its ``backbone.*`` part is loaded) or a backbone
one; for a timm name, the classifier's weights. Every load is strict (mismatches are listed).

The graph is fixed to the batch and size given (default 1 x 224 x 224); DFFormer/CDFFormer's
FFT filter is exported as DFT matrix products (equal to the FFT up to float32 rounding).
Without ``--no-verify``, the file is run in onnxruntime on a random input and the largest
difference to PyTorch is printed; a difference above ``--atol`` (default 1e-4 times the largest
output) is an error. Whole detectors are not exported here: mmdet's post-processing (NMS,
dynamic box counts) needs mmdeploy.
"""

import argparse
import os.path as osp
import sys

import torch


def build(model_name: str, checkpoint: str = None) -> torch.nn.Module:
    from mmtokenmix.checkpoints import (
        extract_state_dict,
        load_checkpoint_file,
        load_state_dict_checked,
        strip_prefix,
    )

    if model_name.endswith('.py'):
        from mmengine import Config
        from mmengine.registry import MODELS, init_default_scope

        import mmtokenmix.models  # noqa: F401

        cfg = Config.fromfile(model_name)
        init_default_scope('mmtokenmix')
        model = MODELS.build(dict(cfg.model.backbone, init_cfg=None))
        if checkpoint:
            state_dict = extract_state_dict(load_checkpoint_file(checkpoint))
            if any(k.startswith('backbone.') for k in state_dict):
                state_dict = strip_prefix(state_dict, 'backbone.')
            load_state_dict_checked(model, state_dict, source=checkpoint)
        return model
    import timm

    import mmtokenmix.models  # noqa: F401  (registers our timm names)

    model = timm.create_model(model_name)
    if checkpoint:
        load_state_dict_checked(
            model, extract_state_dict(load_checkpoint_file(checkpoint)), source=checkpoint
        )
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('model', help='a config file or a timm name of ours')
    parser.add_argument('--checkpoint', help='weights to load (strictly)')
    parser.add_argument('--shape', type=int, nargs=2, default=[224, 224], metavar=('H', 'W'))
    parser.add_argument('--batch', type=int, default=1)
    parser.add_argument('--out', help='output file (default: <model>.onnx)')
    parser.add_argument('--opset', type=int, default=17)
    parser.add_argument('--no-verify', action='store_true', help='skip the onnxruntime check')
    parser.add_argument(
        '--atol',
        type=float,
        default=None,
        help='largest accepted difference (default 1e-4 x largest output)',
    )
    args = parser.parse_args(argv)

    from mmtokenmix.deployment import OnnxExportError, compare_with_onnxruntime, export_onnx

    model = build(args.model, args.checkpoint).eval()
    out = args.out or osp.splitext(osp.basename(args.model))[0] + '.onnx'
    shape = (args.batch, getattr(model, 'in_channels', 3), *args.shape)
    try:
        names = export_onnx(model, shape, out, opset=args.opset)
    except OnnxExportError as e:
        sys.exit(f'error: {e}')
    print(
        f'exported {type(model).__name__} for input {tuple(shape)} -> {out} '
        f'(outputs {", ".join(names)}; opset {args.opset})'
    )
    if args.no_verify:
        return
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(0))
    diff, scale = compare_with_onnxruntime(model, out, x)
    atol = args.atol if args.atol is not None else 1e-4 * scale
    print(
        f'onnxruntime vs PyTorch: max abs difference {diff:.3g} (largest output {scale:.3g}, '
        f'accepted {atol:.3g})'
    )
    if diff > atol:
        sys.exit(f'error: the ONNX model differs from PyTorch by {diff:.3g} > {atol:.3g}')


if __name__ == '__main__':
    main()
