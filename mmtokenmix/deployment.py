"""ONNX export of the backbones and classifiers, and its check against onnxruntime
(``tools/deployment/pytorch2onnx.py`` is the command line).

What exports, with torch 2.5's TorchScript-based exporter (opset 17):

* TransXNet, XFormer, DMFormer, MetaFormer with SepConv/attention: as they are; TransXNet's
  IDConv traces its adaptive pooling as two matrix products (``layers/pooling.py``), as ONNX
  has none, so it exports at any size.
* DFFormer / CDFFormer: ONNX has no operator for ``torch.fft.rfft2``; the export runs under
  :func:`~mmtokenmix.models.mixers.dynamic_filter.use_dft_matrices`, which computes the same
  filter with real DFT matrix products (equal up to float32 rounding).

The graph is traced at one input shape (batch and size): the shape-dependent steps (TransXNet's
position-encoding resize and per-sample convolution, DFFormer's filter-base resize and DFT
matrices) are recorded for that shape, so export at the shape you deploy.
"""

import contextlib
from typing import List, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn


class OnnxExportError(RuntimeError):
    """The model cannot be exported (the message says why)."""


def _outputs(model: nn.Module, x: torch.Tensor) -> List[torch.Tensor]:
    out = model(x)
    return list(out) if isinstance(out, (list, tuple)) else [out]


def export_onnx(
    model: nn.Module, input_shape: Sequence[int], path: str, opset: int = 17
) -> List[str]:
    """Export ``model`` (eval mode) for inputs of ``input_shape`` (B, C, H, W) to ``path``;
    returns the output names (``out0``, ``out1``, ...)."""
    from .models.mixers.dynamic_filter import DynamicFilter, use_dft_matrices

    model = model.eval()
    x = torch.zeros(*input_shape)
    uses_fft = any(isinstance(m, DynamicFilter) for m in model.modules())
    with torch.no_grad():
        names = [f'out{i}' for i in range(len(_outputs(model, x)))]
        context = use_dft_matrices(model) if uses_fft else contextlib.nullcontext()
        with context:
            try:
                torch.onnx.export(
                    model,
                    (x,),
                    path,
                    input_names=['input'],
                    output_names=names,
                    opset_version=opset,
                    dynamo=False,
                )
            except Exception as e:  # noqa: BLE001  (the exporter raises many types)
                if 'fft' in str(e):
                    raise OnnxExportError(
                        f'{type(model).__name__} uses torch.fft, which ONNX cannot express '
                        f'({e}); export it through mmtokenmix.deployment.export_onnx, which '
                        'switches the FFT filter to DFT matrix products'
                    ) from e
                raise
    return names


def compare_with_onnxruntime(model: nn.Module, path: str, x: torch.Tensor) -> Tuple[float, float]:
    """Run ``path`` in onnxruntime (CPU) and the eager ``model`` on ``x``; returns the largest
    absolute difference over all outputs and the largest absolute eager value."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    with torch.no_grad():
        expected = _outputs(model.eval(), x)
    got = session.run(None, {'input': x.numpy()})
    if len(got) != len(expected):
        raise AssertionError(f'onnxruntime gave {len(got)} outputs, PyTorch {len(expected)}')
    diff = max(float(np.abs(g - e.numpy()).max()) for g, e in zip(got, expected))
    scale = max(float(e.abs().max()) for e in expected)
    return diff, scale
