"""Whole-model deployment with mmdeploy, checked against PyTorch: export a detector or
segmentor config to ONNX Runtime (mmdeploy's ``torch2onnx`` with a deploy config of
``configs/deploy/``), run the exported file and the PyTorch model on the same preprocessed
images, compare what they predict and time both (``tools/deployment/deploy.py`` is the command
line).

What is compared, and why these tolerances: both runs are float32 on the same input, so the
network's outputs differ only by rounding (about 1e-5 relative; DFFormer's FFT becomes DFT
matrix products). After post-processing that shows as

* detections: every PyTorch box above the score threshold has an exported box of the same
  label with IoU >= 0.99 and a score within 1e-3, and the other way round. NMS keeps or drops
  a box whose score or overlap sits within rounding of a threshold, so a box that one side
  keeps at a score within 1e-3 of the threshold may be missing on the other: such boxes are
  counted apart, never as matches. Masks (Mask R-CNN): the matched boxes' masks agree on 99 %
  of their pixels (a mask's border pixels sit at the 0.5 threshold of the sigmoid);
* label maps: at least 99.9 % of the pixels agree (pixels where two classes' logits are within
  rounding may flip).
"""

import statistics
import time
from typing import Callable, Dict, List

import torch

SCORE_TOL, IOU_MIN, MASK_AGREEMENT, PIXEL_AGREEMENT = 1e-3, 0.99, 0.99, 0.999


def box_iou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(N, M) IoU of x1y1x2y2 boxes."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = (rb - lt).clamp(min=0).prod(-1)
    area = lambda x: (x[:, 2:] - x[:, :2]).clamp(min=0).prod(-1)  # noqa: E731
    return inter / (area(a)[:, None] + area(b)[None] - inter).clamp(min=1e-12)


def _one_way(ref, got, score_thr: float) -> Dict:
    matched, borderline, missing, worst_iou, worst_score = 0, 0, 0, 1.0, 0.0
    pairs = []
    iou = box_iou(ref.bboxes, got.bboxes) if len(ref) and len(got) else None
    for i in range(len(ref)):
        best = -1
        if iou is not None:
            same = (got.labels == ref.labels[i]) & ((got.scores - ref.scores[i]).abs() <= SCORE_TOL)
            candidates = torch.where(same, iou[i], torch.zeros_like(iou[i]))
            j = int(candidates.argmax())
            if candidates[j] >= IOU_MIN:
                best = j
        if best >= 0:
            matched += 1
            pairs.append((i, best))
            worst_iou = min(worst_iou, float(iou[i, best]))
            worst_score = max(worst_score, float((got.scores[best] - ref.scores[i]).abs()))
        elif float(ref.scores[i]) - score_thr <= SCORE_TOL:
            borderline += 1
        else:
            missing += 1
    return dict(
        matched=matched,
        borderline=borderline,
        missing=missing,
        worst_iou=worst_iou,
        worst_score_diff=worst_score,
        pairs=pairs,
    )


def compare_detections(ref, got, score_thr: float) -> Dict:
    """Compare two ``pred_instances`` (PyTorch's ``ref``, the exported model's ``got``), both
    cut at ``score_thr``: see the module docstring. ``ok`` when nothing is missing."""
    ref, got = ref[ref.scores >= score_thr], got[got.scores >= score_thr]
    forward, backward = _one_way(ref, got, score_thr), _one_way(got, ref, score_thr)
    result = dict(
        boxes_pytorch=len(ref),
        boxes_exported=len(got),
        matched=forward['matched'],
        borderline=forward['borderline'] + backward['borderline'],
        missing=forward['missing'] + backward['missing'],
        worst_iou=min(forward['worst_iou'], backward['worst_iou']),
        worst_score_diff=max(forward['worst_score_diff'], backward['worst_score_diff']),
    )
    if 'masks' in ref and 'masks' in got and forward['pairs']:
        agreement = [
            float((ref.masks[i].bool() == got.masks[j].bool()).float().mean())
            for i, j in forward['pairs']
        ]
        result['worst_mask_agreement'] = min(agreement)
    result['ok'] = result['missing'] == 0 and result.get('worst_mask_agreement', 1.0) >= (
        MASK_AGREEMENT
    )
    return result


def compare_label_maps(ref: torch.Tensor, got: torch.Tensor) -> Dict:
    """Pixel agreement of two label maps (same shape)."""
    if ref.shape != got.shape:
        raise ValueError(
            f'label maps of different shapes: {tuple(ref.shape)} vs {tuple(got.shape)}'
        )
    agreement = float((ref == got).float().mean())
    return dict(pixel_agreement=agreement, ok=agreement >= PIXEL_AGREEMENT)


def median_seconds(run: Callable[[], object], repeats: int) -> Dict:
    """Median (min, max) seconds of ``repeats`` calls after one untimed call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return dict(median=statistics.median(times), min=min(times), max=max(times))


def save_initial_weights(model_cfg, path: str) -> str:
    """Build ``model_cfg`` (a path or an mmengine Config), run its ``init_weights()`` after
    ``torch.manual_seed(0)`` and save the state dict to ``path`` (a checkpoint for deploying a
    model before it is trained)."""
    from mmengine.config import Config

    from mmtokenmix.analysis import build_model_from_config

    torch.manual_seed(0)
    cfg = Config.fromfile(model_cfg) if isinstance(model_cfg, str) else model_cfg
    model = build_model_from_config(cfg)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def deploy_and_compare(
    deploy_cfg,
    model_cfg,
    checkpoint: str,
    images: List[str],
    work_dir: str,
    repeats: int = 5,
) -> Dict:
    """Export ``model_cfg`` (a path or an mmengine Config, as ``deploy_cfg``) with ``checkpoint``
    through mmdeploy for ``deploy_cfg`` into
    ``work_dir``, then compare and time PyTorch and ONNX Runtime on ``images`` (see the module
    docstring). Returns the export time, one comparison per image and the timings."""
    import os.path as osp

    from mmdeploy.apis import torch2onnx
    from mmdeploy.apis.utils import build_task_processor
    from mmdeploy.utils import get_input_shape, load_config

    deploy, model = load_config(deploy_cfg, model_cfg)
    onnx_file = osp.join(work_dir, deploy.onnx_config.save_file)
    start = time.perf_counter()
    torch2onnx(images[0], work_dir, deploy.onnx_config.save_file, deploy, model, checkpoint, 'cpu')
    export_s = time.perf_counter() - start

    processor = build_task_processor(model, deploy, 'cpu')
    pytorch = processor.build_pytorch_model(checkpoint)
    exported = processor.build_backend_model([onnx_file], processor.update_data_preprocessor)
    shape = get_input_shape(deploy)
    task = deploy.codebase_config.task
    score_thr = deploy.codebase_config.get('post_processing', {}).get('score_threshold', 0.0)
    comparisons, timings = [], dict(pytorch=[], exported=[])
    for image in images:
        inputs, _ = processor.create_input(image, shape)
        with torch.no_grad():
            ref, got = pytorch.test_step(inputs)[0], exported.test_step(inputs)[0]
            for name, m in (('pytorch', pytorch), ('exported', exported)):
                timings[name].append(median_seconds(lambda m=m: m.test_step(inputs), repeats))
        if task == 'Segmentation':
            result = compare_label_maps(ref.pred_sem_seg.data, got.pred_sem_seg.data)
        else:
            result = compare_detections(ref.pred_instances, got.pred_instances, score_thr)
        comparisons.append(dict(image=image, **result))
    return dict(
        onnx_file=onnx_file,
        export_s=export_s,
        comparisons=comparisons,
        seconds={k: statistics.median(t['median'] for t in v) for k, v in timings.items()},
        ok=all(c['ok'] for c in comparisons),
    )


__all__ = [
    'box_iou',
    'compare_detections',
    'compare_label_maps',
    'deploy_and_compare',
    'median_seconds',
    'save_initial_weights',
]
