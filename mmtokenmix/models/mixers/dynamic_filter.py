"""DynamicFilter, the token mixer of DFFormer/CDFFormer (Tatsunami & Taki, "FFT-based Dynamic
Token Mixer for Vision", AAAI 2024, arXiv 2303.03932).

Tokens are mixed by a global filter in the frequency domain: ``irfft2(rfft2(x) * filter)``. The
filter of each sample and channel is a softmax-weighted combination of a few learned complex
bases, the weights predicted from the sample's mean token. The bases are stored for a nominal
feature size and resized to the actual one on the fly, exactly as the official dense models do
(bicubic, ``align_corners=True``, real and imaginary parts as separate channels, on the
unshifted spectrum), so any input size works. In inference the resized bases are kept for
the next input of the same size (:mod:`mmtokenmix.models.layers.fast_paths`).

For export (ONNX has no operator for ``torch.fft``) the filter is the same transform written as
products with real DFT matrices: equal to the FFT path up to float32 rounding (tested), for a
fixed input size. Any ONNX export takes it (``torch.onnx.is_in_onnx_export()``: ours, and
mmdeploy's ``torch2onnx``); :func:`use_dft_matrices` switches it on outside an export too.
"""

import math
from contextlib import contextmanager
from typing import Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..layers.fast_paths import ResizedParameterCache, use_fast_path, use_inference_fast_path
from ..layers.interpolation import bicubic_matrix
from ..layers.metaformer import MetaFormerMlp, StarReLU


def resize_complex_weight(
    weight: torch.Tensor, height: int, width: int, use_matrices: Optional[bool] = None
) -> torch.Tensor:
    """Resize complex filter bases stored as ``(h, w, F, 2)`` (real/imaginary last) to
    ``(height, width, F, 2)``: bicubic with ``align_corners=True`` over the ``2F`` channels.

    The same size is returned unchanged (the interpolation is an exact identity there).
    ``use_matrices`` computes the resize as two matrix products instead of
    ``F.interpolate``; equal up to float rounding, but with a deterministic backward on CUDA,
    where bicubic ``F.interpolate`` has none. By default the matrices are used exactly when
    ``torch.use_deterministic_algorithms(True)`` is on and the weight is on a GPU (not in a
    TorchScript model, which always interpolates).
    """
    h, w = weight.shape[0], weight.shape[1]
    if h == height and w == width:
        return weight
    if not torch.jit.is_scripting():
        if use_matrices is None:
            use_matrices = weight.is_cuda and torch.are_deterministic_algorithms_enabled()
        if use_matrices:
            rows = bicubic_matrix(
                h, height, align_corners=True, dtype=weight.dtype, device=weight.device
            )
            cols = bicubic_matrix(
                w, width, align_corners=True, dtype=weight.dtype, device=weight.device
            )
            return torch.einsum('Hh,hwfc,Ww->HWfc', rows, weight, cols)
    channels_first = weight.reshape(1, h, w, -1).permute(0, 3, 1, 2)
    resized = F.interpolate(
        channels_first, size=(height, width), mode='bicubic', align_corners=True
    )
    return resized.permute(0, 2, 3, 1).reshape(height, width, weight.shape[2], weight.shape[3])


def filter_size_for(feature_size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    """Spectrum size ``(H, W // 2 + 1)`` that ``rfft2`` gives for a feature map of size
    ``(H, W)`` (an int means square)."""
    if isinstance(feature_size, int):
        feature_size = (feature_size, feature_size)
    h, w = feature_size
    return int(h), int(w) // 2 + 1


def _dft_matrices(n: int, kept: int, dtype, device) -> Tuple[torch.Tensor, torch.Tensor]:
    """``(cos, sin)`` of ``2 pi k t / n`` for frequencies ``k < kept`` and positions ``t < n``,
    scaled by ``1 / sqrt(n)`` (``norm='ortho'``). Computed in float64 with numpy, so that a
    trace (ONNX export) records them as constants, not as operations (the export is for one
    input size anyway)."""
    n, kept = int(n), int(kept)
    k = np.arange(kept, dtype=np.float64)[:, None]
    t = np.arange(n, dtype=np.float64)[None, :]
    angle = 2 * math.pi * ((k * t) % n) / n
    scale = 1 / math.sqrt(n)
    return (
        torch.from_numpy(np.cos(angle) * scale).to(dtype=dtype, device=device),
        torch.from_numpy(np.sin(angle) * scale).to(dtype=dtype, device=device),
    )


def global_filter_with_dft_matrices(y: torch.Tensor, filters: torch.Tensor) -> torch.Tensor:
    """``irfft2(rfft2(y) * filters, s=(H, W))`` (``norm='ortho'``, over dims 1, 2 of a
    channels-last ``y`` (B, H, W, C)) in real arithmetic: ``filters`` is (B, H, W//2+1, C, 2),
    real and imaginary parts last. Only matrix products and elementwise operations, so it
    exports to ONNX."""
    _, H, W, _ = y.shape
    kept = W // 2 + 1
    cos_w, sin_w = _dft_matrices(W, kept, y.dtype, y.device)  # (kept, W)
    cos_h, sin_h = _dft_matrices(H, H, y.dtype, y.device)  # (H, H), symmetric
    # rfft over W: A - iB
    a = torch.einsum('kw,bhwc->bhkc', cos_w, y)
    b = -torch.einsum('kw,bhwc->bhkc', sin_w, y)
    # fft over H of A + iB: (cos - i sin)(A + iB)
    zr = torch.einsum('mh,bhkc->bmkc', cos_h, a) + torch.einsum('mh,bhkc->bmkc', sin_h, b)
    zi = torch.einsum('mh,bhkc->bmkc', cos_h, b) - torch.einsum('mh,bhkc->bmkc', sin_h, a)
    fr, fi = filters[..., 0], filters[..., 1]
    pr, pi = zr * fr - zi * fi, zr * fi + zi * fr
    # inverse fft over H: (cos + i sin)(Pr + iPi)
    qr = torch.einsum('hm,bmkc->bhkc', cos_h, pr) - torch.einsum('hm,bmkc->bhkc', sin_h, pi)
    qi = torch.einsum('hm,bmkc->bhkc', cos_h, pi) + torch.einsum('hm,bmkc->bhkc', sin_h, pr)
    # inverse real fft over W: the kept half counts twice, except DC (and Nyquist, W even);
    # the imaginary parts of those two are ignored, as irfft does (their sines are 0)
    twice = np.full((kept, 1), 2.0)
    twice[0] = 1.0
    if W % 2 == 0:
        twice[-1] = 1.0
    twice = torch.from_numpy(twice).to(dtype=y.dtype, device=y.device)
    return torch.einsum('kw,bhkc->bhwc', cos_w * twice, qr) - torch.einsum(
        'kw,bhkc->bhwc', sin_w * twice, qi
    )


class DynamicFilter(nn.Module):
    """DFFormer's token mixer on channels-last maps (B, H, W, C).

    ``y = StarReLU(pwconv1(x))`` (C -> med), ``Y = rfft2(y)`` in float32 (``norm='ortho'``),
    multiplied by the per-sample filter ``sum_f softmax_f(reweight(mean(x)))[f, c] * K_f`` of
    the ``num_filters`` complex bases ``K`` (resized to ``Y``'s size), ``irfft2`` back to
    ``(H, W)``, then ``pwconv2`` (med -> C).

    Args:
        channels: input (= output) width C.
        feature_size: nominal feature size (int or (H, W)) the bases are stored for; the
            bases have shape ``(H, W // 2 + 1, num_filters, 2)``.
        expansion_ratio: ``med = int(expansion_ratio * C)``.
        reweight_expansion_ratio: hidden width of the reweighting MLP, relative to C.
        num_filters: number of filter bases.
        bias: biases of the two pointwise layers (none upstream).
    """

    def __init__(
        self,
        channels: int,
        feature_size: Union[int, Sequence[int]] = 14,
        expansion_ratio: float = 2.0,
        reweight_expansion_ratio: float = 0.25,
        num_filters: int = 4,
        bias: bool = False,
    ):
        super().__init__()
        self.med_channels = int(expansion_ratio * channels)
        self.num_filters = num_filters
        self.pwconv1 = nn.Linear(channels, self.med_channels, bias=bias)
        self.act1 = StarReLU()
        # output index f * med + c: filter f of channel c
        self.reweight = MetaFormerMlp(
            channels, reweight_expansion_ratio, out_channels=num_filters * self.med_channels
        )
        h, w = filter_size_for(feature_size)
        self.complex_weights = nn.Parameter(torch.randn(h, w, num_filters, 2) * 0.02)
        self._bases_cache = ResizedParameterCache()
        self.act2 = nn.Identity()
        self.pwconv2 = nn.Linear(self.med_channels, channels, bias=bias)
        # 'fft' (torch.fft) or 'dft_matrices' (real matrix products, for export)
        self.spectral_impl = 'fft'

    def filter_bases(self, height: int, width: int) -> torch.Tensor:
        """The complex bases ``(height, width // 2 + 1, F)`` for a ``(height, width)`` map."""
        spectrum_width = width // 2 + 1  # what rfft2 keeps
        if torch.jit.is_scripting():
            return self._resized_bases(height, spectrum_width)
        return self._cached_bases(height, spectrum_width)

    def check_dtype(self):
        """The FFT part needs float32/float64 bases (raise a TypeError otherwise)."""
        if self.complex_weights.dtype not in (torch.float32, torch.float64):
            raise TypeError(
                f'DynamicFilter keeps its FFT path in float32, but its filter bases are '
                f'{self.complex_weights.dtype}: the model was cast to low precision '
                f'(model.half()/.bfloat16() or a pure-fp16 wrapper). Keep the weights in '
                f'float32 and use autocast instead (AmpOptimWrapper in mmengine).'
            )

    def _cached_bases(self, height: int, width: int) -> torch.Tensor:
        # upstream resizes on every forward; in inference the result is kept per size
        return self._bases_cache.get(
            self, self.complex_weights, (height, width), lambda: self._resized_bases(height, width)
        )

    def _resized_bases(self, height: int, width: int) -> torch.Tensor:
        return torch.view_as_complex(
            resize_complex_weight(self.complex_weights, height, width).contiguous()
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, _ = x.shape
        if not torch.jit.is_scripting():
            self.check_dtype()
        routing = self.reweight(x.mean(dim=(1, 2))).view(B, self.num_filters, -1)
        routing = routing.softmax(dim=1)  # over the filters, per channel
        # the spectral part runs in float32 (upstream; autocast's fp16 too), or in float64 for
        # a model cast to double
        real = torch.float64 if self.complex_weights.dtype == torch.float64 else torch.float32
        y = self.act1(self.pwconv1(x)).to(real)
        if not torch.jit.is_scripting():
            # any ONNX export (ours, mmdeploy's torch2onnx) traces the DFT-matrix filter
            if self.spectral_impl == 'dft_matrices' or torch.onnx.is_in_onnx_export():
                bases = resize_complex_weight(self.complex_weights, *filter_size_for((H, W)))
                filters = torch.einsum('bfc,hwfi->bhwci', routing.to(real), bases)
                return self.pwconv2(self.act2(global_filter_with_dft_matrices(y, filters)))
        if torch.jit.is_scripting():
            y = filter_spectrum(y, routing, self.filter_bases(H, W), False)
        elif torch.is_grad_enabled() and (torch.compiler.is_compiling() or use_fast_path(self)):
            # training: the operator with its own backward (see fft_filter; the plain path
            # differentiates the upstream computation)
            bases = resize_complex_weight(self.complex_weights, H, W // 2 + 1).contiguous()
            y = torch.ops.mmtokenmix.fft_filter(y, routing.to(y.dtype), bases.to(y.dtype))
        else:  # in place on the inference fast path: the spectrum is not needed afterwards
            y = filter_spectrum(y, routing, self.filter_bases(H, W), use_inference_fast_path(self))
        return self.pwconv2(self.act2(y))


def filter_spectrum(
    y: torch.Tensor, routing: torch.Tensor, bases: torch.Tensor, in_place: bool
) -> torch.Tensor:
    """``irfft2(rfft2(y) * filters)`` over dims 1, 2 of a channels-last ``y`` (B, H, W, C),
    ``norm='ortho'``, with per-sample filters ``sum_f routing[b, f, c] * bases[..., f]``
    (``bases``: complex (H, W // 2 + 1, F)). ``in_place`` multiplies into the spectrum."""
    H, W = y.shape[1], y.shape[2]
    spectrum = torch.fft.rfft2(y, dim=(1, 2), norm='ortho')
    filters = torch.einsum('bfc,hwf->bhwc', routing.to(spectrum.dtype), bases)
    spectrum = spectrum.mul_(filters) if in_place else spectrum * filters
    # the explicit output size keeps odd widths (rfft2 of W and W+1 have the same width)
    return torch.fft.irfft2(spectrum, s=(H, W), dim=(1, 2), norm='ortho')


# ---- the filter as an operator with its own backward ------------------------------------
# In training, DynamicFilter calls the filter as the custom operator mmtokenmix::fft_filter,
# whose backward (mmtokenmix::fft_filter_backward) is written out below. Why: inside a
# torch.compile'd DFFormer, inductor (torch 2.5 and 2.6) differentiated the complex
# computation wrongly (gradients of the routing path up to 5x off against a float64 eager
# reference); an operator is opaque to the compiler, which calls it as it is. Keeping the
# filter out of the graph by a graph break instead made dynamo recompile the following
# layers with dynamic shapes, which inductor 2.5 failed to lower. The backward also keeps
# less for later: only y (the spectrum and the filters, complex tensors as large as y
# together, are recomputed). Inductor's compile cache keys on the graph, not on an operator's
# code: give an operator a new name when its shapes or strides change.


@torch.library.custom_op('mmtokenmix::fft_filter', mutates_args=())
def fft_filter(y: torch.Tensor, routing: torch.Tensor, bases: torch.Tensor) -> torch.Tensor:
    """:func:`filter_spectrum` of ``y`` (B, H, W, C) with real-pair bases ``bases``
    (H, W // 2 + 1, F, 2), as one operator."""
    return filter_spectrum(
        y, routing, torch.view_as_complex(bases.contiguous()), False
    ).contiguous()


# (the compiler lays out what follows by these shapes and strides: contiguous, as returned)
@fft_filter.register_fake
def _(y, routing, bases):
    return y.new_empty(y.shape)


@torch.library.custom_op('mmtokenmix::fft_filter_backward', mutates_args=())
def fft_filter_backward(
    grad: torch.Tensor, y: torch.Tensor, routing: torch.Tensor, bases: torch.Tensor
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gradients of :func:`fft_filter` w.r.t. ``y``, ``routing`` and ``bases`` (torch's own
    rules for rfft2/irfft2 written out: norm='ortho' makes the transforms unitary)."""
    H, W = y.shape[1], y.shape[2]
    kept = W // 2 + 1
    complex_bases = torch.view_as_complex(bases.contiguous())
    spectrum = torch.fft.rfft2(y, dim=(1, 2), norm='ortho')
    filters = torch.einsum('bfc,hwf->bhwc', routing.to(spectrum.dtype), complex_bases)
    grad_product = torch.fft.rfft2(grad, dim=(1, 2), norm='ortho')
    # y -> irfft2(rfft2(y) * filters) is linear and real; its adjoint filters with the
    # conjugate filters (torch's rfft2 and irfft2 backwards chained: irfft2's doubling of the
    # bins that stand for two and rfft2's zero-padded inverse transform cancel into an irfft2)
    grad_y = torch.fft.irfft2(grad_product * filters.conj(), s=(H, W), dim=(1, 2), norm='ortho')
    # irfft2's backward: rfft2 of the gradient, the bins that stand for two doubled
    doubled = W - kept
    if doubled > 0:
        grad_product[:, :, 1 : 1 + doubled] *= 2
    grad_filters = grad_product * spectrum.conj()
    grad_routing = torch.einsum('bhwc,hwf->bfc', grad_filters, complex_bases.conj()).real
    grad_bases = torch.einsum('bhwc,bfc->hwf', grad_filters, routing.to(grad_filters.dtype))
    return (
        grad_y.contiguous(),
        grad_routing.to(routing.dtype).contiguous(),
        torch.view_as_real(grad_bases).contiguous(),
    )


@fft_filter_backward.register_fake
def _(grad, y, routing, bases):
    return y.new_empty(y.shape), routing.new_empty(routing.shape), bases.new_empty(bases.shape)


def _save_inputs(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _fft_filter_grads(ctx, grad):
    return fft_filter_backward(grad.contiguous(), *ctx.saved_tensors)


fft_filter.register_autograd(_fft_filter_grads, setup_context=_save_inputs)


@contextmanager
def use_dft_matrices(model: nn.Module):
    """Inside this block every :class:`DynamicFilter` of ``model`` computes its filter with
    real DFT matrices instead of ``torch.fft`` (for ONNX export, which has no FFT operator)."""
    filters = [m for m in model.modules() if isinstance(m, DynamicFilter)]
    for m in filters:
        m.spectral_impl = 'dft_matrices'
    try:
        yield model
    finally:
        for m in filters:
            m.spectral_impl = 'fft'
