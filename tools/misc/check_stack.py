"""Check that the installed stack works: imports, and mmcv's compiled ops on the device
(the stack alone: the set-up runs it before any checkout is installed on it).

    python tools/misc/check_stack.py [--device cpu|cuda]

Runs ``mmcv.ops.nms`` and ``mmcv.ops.RoIAlign`` on the device; on ``cuda`` the results must
equal the CPU ops' (a CPU-only mmcv build fails here with mmcv's own error, which is the point).
Prints one line of versions and exits non-zero with the reason if anything is wrong.
tools/setup_env.sh runs it before it marks an environment finished.
"""

import argparse
import sys


def check_ops(device: str) -> str:
    import torch
    from mmcv.ops import RoIAlign, nms

    gen = torch.Generator().manual_seed(0)
    xy = torch.rand(64, 2, generator=gen) * 50
    boxes = torch.cat([xy, xy + 5 + torch.rand(64, 2, generator=gen) * 30], dim=1)
    scores = torch.rand(64, generator=gen)
    feats = torch.rand(2, 8, 32, 32, generator=gen)
    rois = torch.tensor([[0, 1.0, 2.0, 20.0, 25.0], [1, 4.5, 3.0, 30.0, 12.0]])
    roi_align = RoIAlign((7, 7), spatial_scale=0.5, sampling_ratio=2, aligned=True)

    _, keep_cpu = nms(boxes, scores, 0.5)
    pooled_cpu = roi_align(feats, rois)
    if device == 'cpu':
        return f'nms kept {len(keep_cpu)}/64 boxes, RoIAlign {tuple(pooled_cpu.shape)} on cpu'
    if not torch.cuda.is_available():
        raise RuntimeError('--device cuda, but torch.cuda.is_available() is False')
    _, keep = nms(boxes.cuda(), scores.cuda(), 0.5)
    pooled = roi_align(feats.cuda(), rois.cuda())
    if not torch.equal(keep.cpu(), keep_cpu):
        raise RuntimeError(f'mmcv.ops.nms on CUDA kept {keep.tolist()}, on CPU {keep_cpu.tolist()}')
    diff = (pooled.cpu() - pooled_cpu).abs().max().item()
    if diff > 1e-5:
        raise RuntimeError(f'mmcv.ops.RoIAlign differs between CUDA and CPU by {diff:.2e}')
    return (
        f'nms kept {len(keep)}/64 boxes and RoIAlign {tuple(pooled.shape)} on '
        f'{torch.cuda.get_device_name()}, equal to the CPU ops (max diff {diff:.1e})'
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description='check the installed stack')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    args = parser.parse_args(argv)
    try:
        import mmcv
        import mmdeploy.apis  # noqa: F401
        import mmdet
        import mmdet.models  # noqa: F401
        import mmengine
        import mmpretrain
        import mmpretrain.models  # noqa: F401
        import mmseg
        import mmseg.models  # noqa: F401
        import onnxruntime
        import timm
        import torch
        import torchvision

        ops = check_ops(args.device)
    except Exception as exc:  # any failure here means the environment is not usable
        print(
            f'[setup] ERROR: the stack check failed: {type(exc).__name__}: {exc}', file=sys.stderr
        )
        return 1
    print(
        f'[setup] torch {torch.__version__} (CUDA {torch.version.cuda}), torchvision '
        f'{torchvision.__version__}, mmcv {mmcv.__version__}, mmengine {mmengine.__version__}, '
        f'mmdet {mmdet.__version__}, mmseg {mmseg.__version__}, mmpretrain '
        f'{mmpretrain.__version__}, onnxruntime {onnxruntime.__version__}, timm '
        f'{timm.__version__}; {ops}'
    )
    return 0


if __name__ == '__main__':
    sys.exit(main())
