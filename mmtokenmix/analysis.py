"""Parameter and FLOP counts of whole detectors/segmentors built from configs.

mmseg 1.2.2's ``get_flops.py`` is broken with mmengine 0.10 and mmdet's needs the dataset on
disk, so this builds the model from any mmtokenmix config and counts one synthetic image of a
given size with mmengine's counter (a jit-trace counter that, unlike the mmcv 1.x counter the
papers used, also counts matrix multiplications: attention and dynamic convolutions).
"""
from functools import partial
from typing import Callable, Dict, Sequence, Tuple

import torch
import torch.nn as nn

# the input size each paper reports FLOPs at, by dataset (height, width)
PAPER_INPUT_SIZES = {'coco': (800, 1280), 'ade': (512, 512), 'cityscapes': (1024, 1024),
                     'toy': (128, 128)}


def paper_input_size(cfg) -> Tuple[int, int]:
    """(h, w) of the paper's FLOP counts for the config: YOLOv3 at its test resize (320 or
    416 square), otherwise by the dataset it trains on (COCO 800x1280, ADE20K 512x512,
    Cityscapes 1024x1024, the toy set 128x128)."""
    test_dataset = cfg.get('test_dataloader', {}).get('dataset', {})
    if cfg.model.get('type') == 'YOLOV3':
        for step in test_dataset.get('pipeline', []):
            if step.get('type') == 'Resize':
                w, h = step['scale']
                return h, w
    root = str(test_dataset.get('data_root', ''))
    for name, size in PAPER_INPUT_SIZES.items():
        if name in root.lower():
            return size
    raise ValueError(f'no paper input size known for data_root {root!r}; pass --shape H W')


def build_model_from_config(cfg, pretrained: bool = False) -> torch.nn.Module:
    """Build ``cfg.model`` in the config's toolbox scope, without loading weights unless
    ``pretrained``; SyncBN becomes BN (as a single-process Runner does)."""
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import MODELS, init_default_scope

    from mmtokenmix.runtime import detect_default_scope
    init_default_scope(detect_default_scope(cfg))
    model_cfg = cfg.model.copy()
    if not pretrained and model_cfg.get('backbone', {}).get('init_cfg') is not None:
        model_cfg.backbone = dict(model_cfg.backbone, init_cfg=None)
    return revert_sync_batchnorm(MODELS.build(model_cfg))


def dummy_data_samples(scope: str, h: int, w: int, batch: int = 1):
    """Data samples with the meta information a ``mode='tensor'`` forward needs."""
    meta = dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w), batch_input_shape=(h, w),
                scale_factor=(1.0, 1.0))
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample as Sample
    else:
        from mmseg.structures import SegDataSample as Sample
    return [Sample(metainfo=meta) for _ in range(batch)]


def count_parameters(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


HOOK_COUNTED = (nn.Conv2d, nn.Linear, nn.modules.batchnorm._BatchNorm, nn.GroupNorm,
                nn.LayerNorm, nn.modules.instancenorm._InstanceNorm, nn.ReLU, nn.ReLU6,
                nn.LeakyReLU, nn.PReLU, nn.ELU, nn.modules.pooling._MaxPoolNd,
                nn.modules.pooling._AvgPoolNd, nn.modules.pooling._AdaptiveAvgPoolNd,
                nn.Upsample)


def _module_flops(m: nn.Module, x: torch.Tensor, y: torch.Tensor) -> int:
    """One module call, counted with the rules of mmcv 1.x's ``get_model_complexity_info``."""
    if isinstance(m, nn.Conv2d):
        per_position = m.in_channels // m.groups * m.out_channels * m.kernel_size[0] * \
            m.kernel_size[1]
        positions = y.numel() // m.out_channels
        return per_position * positions + (m.out_channels * positions if m.bias is not None
                                            else 0)
    if isinstance(m, nn.Linear):
        return x.numel() * m.out_features
    if isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm,
                      nn.modules.instancenorm._InstanceNorm)):
        affine = getattr(m, 'affine', None) or getattr(m, 'elementwise_affine', False)
        return x.numel() * (2 if affine else 1)
    if isinstance(m, (nn.Upsample,)):
        return y.numel()
    if isinstance(m, (nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
                      nn.modules.pooling._AdaptiveAvgPoolNd)):
        return x.numel()
    return y.numel()  # the activations


def hook_style_flops(model: nn.Module, inputs: Sequence[torch.Tensor]) -> int:
    """FLOPs (multiply-adds) the way the module-hook counters of the mmcv 1.x / ptflops era
    count them: convolutions, linear layers, norms, ReLU-family activations, pooling and
    upsampling modules. Functional operations -- attention matrix products, softmax, FFTs,
    SiLU -- are not counted, which is how the papers of that time report FLOPs."""
    total = [0]

    def hook(m, args, out):
        if torch.is_tensor(args[0]) and torch.is_tensor(out):
            total[0] += _module_flops(m, args[0], out)

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, HOOK_COUNTED)]
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
    return total[0]


def module_complexity(model: nn.Module, inputs: Sequence[torch.Tensor]) -> Dict[str, int]:
    """Params and FLOPs of one call ``model(*inputs)``: ``flops`` with mmengine's counter,
    ``hook_flops`` with the mmcv 1.x rules of :func:`hook_style_flops`."""
    from mmengine.analysis import get_model_complexity_info
    inputs = tuple(inputs)
    with torch.no_grad():
        info = get_model_complexity_info(model, inputs=inputs, show_table=False,
                                         show_arch=False)
    return dict(params=count_parameters(model), flops=info['flops'],
                hook_flops=hook_style_flops(model, inputs))


def model_complexity(cfg, shape: Sequence[int] = None) -> Dict[str, float]:
    """Params and FLOPs of ``cfg.model`` on one image of ``shape`` = (h, w), network only (no
    data preprocessing), see :func:`module_complexity`. Returns ``dict(params, flops,
    hook_flops, h, w)``."""
    from mmtokenmix.runtime import detect_default_scope
    h, w = shape if shape is not None else paper_input_size(cfg)
    model = build_model_from_config(cfg).eval()
    samples = dummy_data_samples(detect_default_scope(cfg), h, w)
    model.forward = partial(model.forward, data_samples=samples, mode='tensor')
    return dict(module_complexity(model, (torch.zeros(1, 3, h, w),)), h=h, w=w)


def _rss_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(f'{field} not in /proc/self/status')


def peak_memory_of(run: Callable[[], object], device: str) -> int:
    """Bytes of memory that ``run()`` needs beyond what is already held: on CUDA
    ``torch.cuda.max_memory_allocated``; on CPU the process's peak resident set (VmHWM, reset
    just before). Meaningful for the first forward of a fresh process: later ones reuse memory
    the allocator kept, which the resident set would not show again."""
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # resets VmHWM to the current resident set
        base = _rss_kib('VmRSS') * 1024
    run()
    if device == 'cuda':
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - base
    return _rss_kib('VmHWM') * 1024 - base


def interleaved_seconds(runs: Dict[str, Callable[[], object]], repeats: int = 5,
                        warmup: int = 1, device: str = 'cpu') -> Dict[str, Dict[str, float]]:
    """Wall seconds of each ``runs[name]()``, the runs taking turns (``warmup`` untimed
    rounds, then ``repeats`` timed ones), so that a machine getting slower or faster during
    the measurement affects all of them alike. Returns per name the ``median``, ``min`` and
    ``max`` over the timed rounds."""
    import statistics
    import time

    def sync():
        if device == 'cuda':
            torch.cuda.synchronize()

    times = {name: [] for name in runs}
    for round_ in range(warmup + repeats):
        for name, run in runs.items():
            sync()
            start = time.perf_counter()
            run()
            sync()
            if round_ >= warmup:
                times[name].append(time.perf_counter() - start)
    return {name: dict(median=statistics.median(t), min=min(t), max=max(t))
            for name, t in times.items()}
