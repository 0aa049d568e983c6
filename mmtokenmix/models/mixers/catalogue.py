"""The token mixers a MetaFormer stage can have, by name: one entry per mixer with its factory
and the facts MixerNet needs (its stage layout and width unit per parameter budget).

Every factory returns a module on channels-last (B, H, W, C) maps, the layout of
:class:`~mmtokenmix.models.backbones.metaformer.MetaFormer`. The mixers of the other papers
are the modules of their own backbones, wrapped for that layout (wrapping adds no parameter).
"""

import math
from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

import torch
import torch.nn as nn

from .attention import Attention
from .d_mixer import DMixer
from .dma import DMA
from .dynamic_filter import DynamicFilter
from .sepconv import SepConv
from .xfa import CrossFeatureAttention


class ChannelsFirst(nn.Module):
    """Runs an NCHW mixer on channels-last maps (permutes in and out; no parameters)."""

    def __init__(self, mixer: nn.Module):
        super().__init__()
        self.mixer = mixer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mixer(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class TokenSequence(nn.Module):
    """Runs a (B, N, C) mixer on (B, H, W, C) maps (flattens in, unflattens out)."""

    def __init__(self, mixer: nn.Module):
        super().__init__()
        self.mixer = mixer

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, H, W, C = x.shape
        return self.mixer(x.reshape(B, H * W, C)).reshape(B, H, W, C)


class Pooling(nn.Module):
    """PoolFormer's mixer ``avgpool3x3(x) - x`` (padding not counted), on NCHW maps."""

    def __init__(self, pool_size: int = 3):
        super().__init__()
        self.pool = nn.AvgPool2d(pool_size, 1, pool_size // 2, count_include_pad=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(x) - x


def heads_for(channels: int, head_dim: int = 32) -> int:
    """Heads of about ``head_dim`` channels: the most heads, at most ``channels // head_dim``,
    that divide ``channels`` (at least 1)."""
    return max(h for h in range(1, max(1, channels // head_dim) + 1) if channels % h == 0)


OSRA_SR_RATIOS = (8, 4, 2, 1)  # TransXNet's spatial reduction of stages 1-4


class StagePositionEncoding(nn.Module):
    """One stage's relative position encoding for OSRA, as TransXNet's ``relative_pos_enc``:
    an attention bias of shape ``(1, heads, H * W, ceil(H / r) * ceil(W / r))`` for the
    stage's nominal feature size ``(H, W)`` and reduction ratio ``r``, zero at init. One module
    is shared by all D-Mixers of a stage; OSRA resizes it to the actual input size."""

    def __init__(self, num_heads: int, feature_size: Tuple[int, int], sr_ratio: int):
        super().__init__()
        h, w = feature_size
        n_kv = math.ceil(h / sr_ratio) * math.ceil(w / sr_ratio)
        self.weight = nn.Parameter(torch.zeros(1, num_heads, h * w, n_kv))


class PositionEncodedDMixer(nn.Module):
    """TransXNet's D-Mixer on channels-last maps, with its stage's relative position encoding
    as OSRA's attention bias (the encoding module is the stage's, shared by its blocks)."""

    def __init__(self, mixer: DMixer, position_encoding: StagePositionEncoding):
        super().__init__()
        self.mixer = mixer
        self.position_encoding = position_encoding

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.mixer(x.permute(0, 3, 1, 2), self.position_encoding.weight)
        return x.permute(0, 2, 3, 1)


def dmixer_heads(channels: int) -> int:
    """OSRA heads of a D-Mixer of ``channels``: heads of 32 channels on its attention half."""
    return heads_for(channels // 2)


#: factory(channels, nominal feature size (H, W), stage index, the stage's shared module or
#: None) -> channels-last mixer
MixerFactory = Callable[[int, Tuple[int, int], int, Optional[nn.Module]], nn.Module]
#: factory(channels, nominal feature size (H, W), stage index) -> the module a stage's mixers
#: share
StageSharedFactory = Callable[[int, Tuple[int, int], int], nn.Module]


@dataclass(frozen=True)
class MixerEntry:
    """One token mixer of the catalogue.

    Attributes:
        build: the factory (see :data:`MixerFactory`).
        source: the paper (and model) the mixer comes from.
        early_stages: the mixer of stages 1-2 in a MixerNet variant of this mixer (None: this
            mixer; CAFormer's attention, quadratic in the tokens, has SepConv there).
        width_units: MixerNet's width unit per parameter budget, found by
            ``mixernet.match_width_unit`` (``tests/test_mixernet.py`` checks each one).
        caveat: how the mixer here differs from the one in its paper's network (reports
            that compare mixers print it beside the mixer's results).
        stage_shared: builds the module all mixers of one stage share (D-Mixer: the stage's
            relative position encoding, as in TransXNet); None: nothing shared.
    """

    build: MixerFactory
    source: str
    width_units: Dict[str, float]
    early_stages: str = None
    caveat: str = None
    stage_shared: StageSharedFactory = None


MIXERS: Dict[str, MixerEntry] = {
    'dynamic_filter': MixerEntry(
        lambda c, size, stage, shared: DynamicFilter(c, size),
        'DFFormer: FFT-based dynamic filter',
        dict(toy=33.0, s=61.5),
    ),
    'sepconv': MixerEntry(
        lambda c, size, stage, shared: SepConv(c),
        'ConvFormer: inverted separable convolution',
        dict(toy=35.0, s=65.5),
    ),
    'attention': MixerEntry(
        lambda c, size, stage, shared: Attention(c),
        'CAFormer: self-attention (heads of 32)',
        dict(toy=35.5, s=66.5),
        early_stages='sepconv',
    ),
    'dmixer': MixerEntry(
        lambda c, size, stage, shared: PositionEncodedDMixer(
            DMixer(c, num_heads=dmixer_heads(c), sr_ratio=OSRA_SR_RATIOS[stage]), shared
        ),
        "TransXNet's D-Mixer (OSRA heads of 32 channels, TransXNet's reduction ratios and "
        'per-stage relative position encoding)',
        dict(toy=38.0, s=73.5),
        stage_shared=lambda c, size, stage: StagePositionEncoding(
            dmixer_heads(c), size, OSRA_SR_RATIOS[stage]
        ),
    ),
    'xfa': MixerEntry(
        lambda c, size, stage, shared: TokenSequence(CrossFeatureAttention(c, heads_for(c))),
        "XFormer's cross feature attention (heads of 32 channels)",
        dict(toy=35.5, s=66.5),
    ),
    'dma': MixerEntry(
        lambda c, size, stage, shared: ChannelsFirst(DMA(c)),
        "DMFormer's dynamic multi-level attention",
        dict(toy=39.0, s=73.0),
    ),
    'pooling': MixerEntry(
        lambda c, size, stage, shared: ChannelsFirst(Pooling()),
        "PoolFormer's pooling",
        dict(toy=42.5, s=79.5),
    ),
}


def _entry(name: str) -> MixerEntry:
    if name not in MIXERS:
        raise ValueError(f'unknown token mixer {name!r}; choose from {tuple(MIXERS)}')
    return MIXERS[name]


def build_stage_shared(
    name: str, channels: int, feature_size: Tuple[int, int], stage: int = 0
) -> Optional[nn.Module]:
    """The module the ``name`` mixers of one stage share (None if that mixer shares none);
    arguments as :func:`build_mixer`. Build it once per stage and hand it to each mixer."""
    entry = _entry(name)
    return entry.stage_shared(channels, feature_size, stage) if entry.stage_shared else None


def build_mixer(
    name: str,
    channels: int,
    feature_size: Tuple[int, int],
    stage: int = 0,
    shared: Optional[nn.Module] = None,
) -> nn.Module:
    """The token mixer called ``name`` (a key of :data:`MIXERS`) for stage ``stage`` of
    ``channels`` whose nominal feature map is ``feature_size``, on channels-last maps.
    ``shared``: the stage's :func:`build_stage_shared` module (built here if not given, then
    owned by this mixer alone)."""
    entry = _entry(name)
    if shared is None:
        shared = build_stage_shared(name, channels, feature_size, stage)
    return entry.build(channels, feature_size, stage, shared)
