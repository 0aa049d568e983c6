"""MixerNet: the four papers' token mixers and the usual baselines in one MetaFormer skeleton
at matched parameter budgets, for comparing mixers with everything else equal.

The skeleton is :class:`~mmtokenmix.models.backbones.metaformer.MetaFormer` (ConvFormer's and
CAFormer's, "MetaFormer Baselines for Vision", Yu et al., TPAMI 2024): 7x7/4 conv stem with
LayerNorm, LayerNorm + 3x3/2 conv downsampling, pre-norm blocks with a bias-free StarReLU MLP
of ratio 4, res scale 1.0 in stages 3-4, output LayerNorms. Only the token mixer differs:
one name of the mixer catalogue (:data:`~mmtokenmix.models.mixers.catalogue.MIXERS`) for all
four stages, except where the catalogue names another mixer for stages 1-2 (``'attention'``,
quadratic in the tokens, has SepConv there, as CAFormer). The stage widths are
``WIDTH_RATIOS x unit`` rounded to multiples of 8, the unit chosen per mixer and budget (the
catalogue's ``width_units``, found by :func:`match_width_unit`) so that every variant's backbone
(with its four output norms) has the budget's parameter count within 3 %.

``arch='<mixer>-<budget>'``, e.g. ``MixerNet(arch='dmixer-toy')``, ``'dynamic_filter-s'``.
"""

import math
from typing import Tuple

import torch

from mmtokenmix.registry import MODELS

from ..mixers.catalogue import MIXERS
from .metaformer import MetaFormer

#: the common parameter budgets (backbone with its output norms) and their depths
BUDGETS = {
    'toy': dict(params=5.0e6, depths=[2, 2, 6, 2]),
    's': dict(params=25.0e6, depths=[3, 3, 9, 3]),  # ConvFormer-S18's depths
}
BUDGET_TOLERANCE = 0.03
WIDTH_RATIOS = (1, 2, 5, 8)  # ConvFormer's 64/128/320/512
WIDTH_STEP = 8


def stage_widths(unit: float) -> list:
    """``WIDTH_RATIOS x unit``, each rounded to a multiple of :data:`WIDTH_STEP`."""
    return [max(WIDTH_STEP, int(round(r * unit / WIDTH_STEP)) * WIDTH_STEP) for r in WIDTH_RATIOS]


def variant_arch(mixer: str, budget: str, unit: float = None) -> dict:
    """The arch dict of ``mixer`` at ``budget`` (width unit from the mixer catalogue unless
    given)."""
    if mixer not in MIXERS:
        raise ValueError(f'unknown MixerNet mixer {mixer!r}; choose from {tuple(MIXERS)}')
    if budget not in BUDGETS:
        raise ValueError(f'unknown MixerNet budget {budget!r}; choose from {sorted(BUDGETS)}')
    entry = MIXERS[mixer]
    mixers = [entry.early_stages or mixer] * 2 + [mixer] * 2
    unit = entry.width_units[budget] if unit is None else unit
    return dict(depths=list(BUDGETS[budget]['depths']), dims=stage_widths(unit), mixers=mixers)


@MODELS.register_module()
class MixerNet(MetaFormer):
    """The mixer-comparison backbone (see the module docstring): :class:`MetaFormer` with the
    named architectures ``'<mixer>-<budget>'`` for every mixer and budget.

    Args:
        arch: ``'<mixer>-<budget>'`` (default ``'sepconv-toy'``) or a :class:`MetaFormer`
            arch dict.
        **kwargs: the arguments of :class:`MetaFormer`.
    """

    arch_settings = {
        f'{mixer}-{budget}': variant_arch(mixer, budget) for budget in BUDGETS for mixer in MIXERS
    }

    def __init__(self, arch='sepconv-toy', **kwargs):
        super().__init__(arch, **kwargs)


def count_params(arch: dict) -> int:
    """Parameters of ``MixerNet(arch)`` (built on the meta device: no memory, fast)."""
    with torch.device('meta'):
        return sum(p.numel() for p in MixerNet(arch).parameters())


def match_width_unit(mixer: str, budget: str, step: float = 0.5) -> Tuple[float, int]:
    """The width unit (a multiple of ``step``) whose variant is closest to the budget, and its
    parameter count: bisection on the (monotone) count, then the nearest of the neighbours."""
    target = BUDGETS[budget]['params']

    def count(unit: float) -> int:
        return count_params(variant_arch(mixer, budget, unit))

    lo, hi = 4.0, 256.0
    while hi - lo > step:
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if count(mid) < target else (lo, mid)
    candidates = [math.floor(lo / step) * step + k * step for k in range(-2, 4)]
    best = min(candidates, key=lambda u: abs(count(u) - target))
    return best, count(best)


def width_search_lines() -> list:
    """One line per budget and mixer: the width unit :func:`match_width_unit` finds, the
    widths and the parameter count against the budget (what the catalogue should hold)."""
    lines = []
    for budget in BUDGETS:
        for mixer in MIXERS:
            unit, params = match_width_unit(mixer, budget)
            held = MIXERS[mixer].width_units[budget]
            lines.append(
                f'{budget:4s} {mixer:15s} unit {unit:5.1f} widths {stage_widths(unit)} '
                f'{params / 1e6:6.2f} M ({params / BUDGETS[budget]["params"] - 1:+.1%})'
                + ('' if held == unit else f'  <- the catalogue holds {held}')
            )
    return lines
