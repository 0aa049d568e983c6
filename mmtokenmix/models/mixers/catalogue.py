"""The token mixers a MetaFormer stage can have, by name: one entry per mixer with its factory
and the facts MixerNet needs (its stage layout and width unit per parameter budget).

Every factory returns a module on channels-last (B, H, W, C) maps, the layout of
:class:`~mmtokenmix.models.backbones.metaformer.MetaFormer`. The mixers of the other papers
are the modules of their own backbones, wrapped for that layout (wrapping adds no parameter).
"""
from dataclasses import dataclass
from typing import Callable, Dict, Tuple

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

#: factory(channels, nominal feature size (H, W), stage index) -> channels-last mixer
MixerFactory = Callable[[int, Tuple[int, int], int], nn.Module]


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
    """

    build: MixerFactory
    source: str
    width_units: Dict[str, float]
    early_stages: str = None
    caveat: str = None


MIXERS: Dict[str, MixerEntry] = {
    'dynamic_filter': MixerEntry(
        lambda c, size, stage: DynamicFilter(c, size), 'DFFormer: FFT-based dynamic filter',
        dict(toy=33.0, s=61.5)),
    'sepconv': MixerEntry(
        lambda c, size, stage: SepConv(c), 'ConvFormer: inverted separable convolution',
        dict(toy=35.0, s=65.5)),
    'attention': MixerEntry(
        lambda c, size, stage: Attention(c), 'CAFormer: self-attention (heads of 32)',
        dict(toy=35.5, s=66.5), early_stages='sepconv'),
    'dmixer': MixerEntry(
        lambda c, size, stage: ChannelsFirst(DMixer(c, num_heads=heads_for(c // 2),
                                                    sr_ratio=OSRA_SR_RATIOS[stage])),
        "TransXNet's D-Mixer (OSRA heads of 32 channels, TransXNet's reduction ratios)",
        dict(toy=39.0, s=74.5),
        caveat="without TransXNet's relative position encoding (TransXNet's stages hand OSRA "
               'one as an attention bias; MixerNet blocks pass none)'),
    'xfa': MixerEntry(
        lambda c, size, stage: TokenSequence(CrossFeatureAttention(c, heads_for(c))),
        "XFormer's cross feature attention (heads of 32 channels)", dict(toy=35.5, s=66.5)),
    'dma': MixerEntry(
        lambda c, size, stage: ChannelsFirst(DMA(c)), "DMFormer's dynamic multi-level attention",
        dict(toy=39.0, s=73.0)),
    'pooling': MixerEntry(
        lambda c, size, stage: ChannelsFirst(Pooling()), "PoolFormer's pooling",
        dict(toy=42.5, s=79.5)),
}


def build_mixer(name: str, channels: int, feature_size: Tuple[int, int],
                stage: int = 0) -> nn.Module:
    """The token mixer called ``name`` (a key of :data:`MIXERS`) for stage ``stage`` of
    ``channels`` whose nominal feature map is ``feature_size``, on channels-last maps."""
    if name not in MIXERS:
        raise ValueError(f'unknown token mixer {name!r}; choose from {tuple(MIXERS)}')
    return MIXERS[name].build(channels, feature_size, stage)
