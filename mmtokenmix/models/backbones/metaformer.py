"""MetaFormer dense backbones with a per-stage token mixer: DFFormer and CDFFormer (Tatsunami &
Taki, "FFT-based Dynamic Token Mixer for Vision", AAAI 2024, arXiv 2303.03932), built on the
skeleton of "MetaFormer Baselines for Vision" (Yu et al., TPAMI 2024); ``MetaFormer`` takes
any token mixer of the catalogue (``mixers/catalogue.py``) per stage: the filter, ConvFormer's
SepConv, CAFormer's attention, and the mixers of the other three papers (see ``mixernet.py``).

Numerically the same networks as the official ``models/dfformer.py``, with its parameter
names (``downsample_layers.{0..3}``, ``stages.{i}.{j}``, output norms ``norm{i}``), so its
ImageNet checkpoints load; their filter bases are resized from 224 to ``nominal_size`` on
loading, as the official dense wrappers do.
"""

from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmtokenmix.registry import MODELS

from ..layers import Downsampling, MetaFormerBlock
from ..mixers import DynamicFilter, resize_complex_weight
from ..mixers.catalogue import MIXERS, build_mixer, build_stage_shared
from .skeleton import MetaFormerSkeleton


def _size_pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    if isinstance(size, int):
        return size, size
    if len(size) != 2:
        raise ValueError(f'nominal_size must be an int or (H, W), got {size!r}')
    return int(size[0]), int(size[1])


S_DIMS, M_DIMS, B_DIMS = [64, 128, 320, 512], [96, 192, 384, 576], [128, 256, 512, 768]
DEPTHS_18, DEPTHS_36 = [3, 3, 9, 3], [3, 12, 18, 3]
DF, SC = 'dynamic_filter', 'sepconv'


@MODELS.register_module()
class MetaFormer(MetaFormerSkeleton):
    """MetaFormer for dense prediction: a tuple of NCHW maps at strides 4/8/16/32.

    Channels-last throughout: a 7x7/4 conv stem with bias-free LayerNorm, then per stage a
    LayerNorm + 3x3/2 conv downsampling (stages 2-4) and :class:`MetaFormerBlock` s with the
    stage's token mixer; each returned stage gets an output LayerNorm (eps 1e-6).

    Args:
        arch: a dict (a name for DFFormer/CDFFormer) with ``depths``, ``dims`` and
            ``mixers`` (4 values each; names of the mixer catalogue,
            :data:`~mmtokenmix.models.mixers.catalogue.MIXERS`),
            optionally ``mlp_ratios``, ``res_scale_init_values`` and
            ``layer_scale_init_values`` (4 values, None = no scale; default no layer scale
            and res scale 1.0 in stages 3-4, as upstream).
        nominal_size: input size (int or (H, W)) the DynamicFilter bases are stored for:
            stage ``i`` keeps ``(H // 2**(i+2), (W // 2**(i+2)) // 2 + 1)`` bases. Official
            ImageNet weights: 224; the official detection models use 800, the segmentation
            ones 512. Any input size works (bases are resized on the fly).
        in_channels: input image channels.
        out_indices / frozen_stages / norm_eval / with_cp / init_cfg / pretrained: see
            :class:`DenseBackbone`.
        drop_rate: MLP dropout.
        drop_path_rate: stochastic depth of the last block (linear from 0 over all blocks).
        out_norm_cfg: output norm of each returned stage (applied channels-last; None: none).
    """

    channels_last = True
    arch_keys = ('depths', 'dims', 'mixers')
    arch_defaults = dict(
        mlp_ratios=[4, 4, 4, 4],
        res_scale_init_values=[None, None, 1.0, 1.0],
        layer_scale_init_values=[None, None, None, None],
    )
    classifier_prefixes = ('head.', 'norm.')

    def __init__(
        self,
        arch: Union[str, dict],
        nominal_size: Union[int, Sequence[int]] = 224,
        in_channels: int = 3,
        out_indices: Sequence[int] = (0, 1, 2, 3),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        with_cp: Union[bool, Sequence[bool]] = False,
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        out_norm_cfg: dict = dict(type='LN', eps=1e-6),
        init_cfg: dict = None,
        pretrained: Optional[str] = None,
    ):
        super().__init__(
            in_channels, out_indices, frozen_stages, norm_eval, with_cp, init_cfg, pretrained
        )
        self.arch = arch = self.parse_arch(arch)
        self.nominal_size = nominal_h, nominal_w = _size_pair(nominal_size)
        if min(nominal_h, nominal_w) < 32:
            raise ValueError(
                f'nominal_size must be at least 32 (stage 4 works at 1/32), got {nominal_size!r}'
            )
        dims = self.out_channels = list(arch['dims'])
        self.out_norm_cfg = out_norm_cfg

        feature_sizes = [(nominal_h // 2 ** (i + 2), nominal_w // 2 ** (i + 2)) for i in range(4)]
        # what a stage's mixers share (D-Mixer: the stage's position encoding), built once
        stage_shared = [
            build_stage_shared(arch['mixers'][i], dims[i], feature_sizes[i], i) for i in range(4)
        ]

        def make_block(i: int, drop_path: float) -> MetaFormerBlock:
            mixer = build_mixer(arch['mixers'][i], dims[i], feature_sizes[i], i, stage_shared[i])
            return MetaFormerBlock(
                dims[i],
                mixer,
                arch['mlp_ratios'][i],
                drop=drop_rate,
                drop_path=drop_path,
                layer_scale_init_value=arch['layer_scale_init_values'][i],
                res_scale_init_value=arch['res_scale_init_values'][i],
            )

        stem = Downsampling(
            in_channels, dims[0], kernel_size=7, stride=4, padding=2, post_norm=True
        )
        downsampling = [
            Downsampling(dims[i - 1], dims[i], kernel_size=3, stride=2, padding=1, pre_norm=True)
            for i in range(1, 4)
        ]
        self.build_hierarchy([stem] + downsampling, make_block, arch['depths'], drop_path_rate)

    @classmethod
    def check_arch(cls, arch: dict):
        for i, name in enumerate(arch['mixers']):
            if name not in MIXERS:
                raise ValueError(
                    f'stage {i}: unknown token mixer {name!r}; choose from {tuple(MIXERS)}'
                )

    def init_module(self, m: nn.Module):
        """Upstream init: the MetaFormer one, filter bases ``randn * 0.02``."""
        super().init_module(m)
        if isinstance(m, DynamicFilter):
            with torch.no_grad():
                m.complex_weights.normal_(0, 0.02)

    def convert_checkpoint(self, state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Resize filter bases stored for another size (ImageNet: 224) to this model's
        ``nominal_size`` as the official dense wrappers do, and drop output norms of stages
        this model does not return (the official detectors keep an unused ``norm0``)."""
        own = self.state_dict()
        out, resized, dropped = {}, [], []
        for key, value in state_dict.items():
            if (
                key.endswith('complex_weights')
                and key in own
                and value.dim() == 4
                and value.shape[2:] == own[key].shape[2:]
                and value.shape != own[key].shape
            ):
                resized.append(f'{key} {tuple(value.shape[:2])}->{tuple(own[key].shape[:2])}')
                value = resize_complex_weight(value.float(), *own[key].shape[:2])
            elif key.split('.', 1)[0] in {
                f'norm{i}' for i in range(self.num_stages)
            } and not self._is_out_norm_key(key):
                dropped.append(key)
                continue
            out[key] = value
        if resized:
            print_log(
                f'{type(self).__name__}: resized {len(resized)} filter bases to nominal '
                f'size {self.nominal_size}, e.g. {resized[0]}',
                logger='current',
            )
        if dropped:
            print_log(
                f'{type(self).__name__}: ignored output norms of stages it does not '
                f'return: {dropped}',
                logger='current',
            )
        return out

    def check_model_input(self, x: torch.Tensor):
        if min(x.shape[2:]) < 3:
            raise ValueError(
                f'{type(self).__name__} needs inputs of at least 3x3 pixels (7x7/4 '
                f'stem with padding 2), got {tuple(x.shape[2:])}'
            )


@MODELS.register_module()
class DFFormer(MetaFormer):
    """DFFormer (Tatsunami & Taki, AAAI 2024): :class:`MetaFormer` with the FFT-based
    :class:`~mmtokenmix.models.mixers.DynamicFilter` in all four stages.

    ``arch``: ``'s18'``, ``'s36'``, ``'m36'``, ``'b36'`` or a dict (see :class:`MetaFormer`).
    """

    arch_settings = {
        's18': dict(depths=DEPTHS_18, dims=S_DIMS, mixers=[DF, DF, DF, DF]),
        's36': dict(depths=DEPTHS_36, dims=S_DIMS, mixers=[DF, DF, DF, DF]),
        'm36': dict(depths=DEPTHS_36, dims=M_DIMS, mixers=[DF, DF, DF, DF]),
        'b36': dict(depths=DEPTHS_36, dims=B_DIMS, mixers=[DF, DF, DF, DF]),
    }

    def __init__(self, arch: Union[str, dict] = 's18', **kwargs):
        super().__init__(arch, **kwargs)


@MODELS.register_module()
class CDFFormer(MetaFormer):
    """CDFFormer (Tatsunami & Taki, AAAI 2024): :class:`MetaFormer` with ConvFormer's SepConv in
    stages 1-2 and the FFT-based DynamicFilter in stages 3-4 (no attention).

    ``arch``: ``'s18'``, ``'s36'``, ``'m36'``, ``'b36'`` or a dict (see :class:`MetaFormer`).
    """

    arch_settings = {
        's18': dict(depths=DEPTHS_18, dims=S_DIMS, mixers=[SC, SC, DF, DF]),
        's36': dict(depths=DEPTHS_36, dims=S_DIMS, mixers=[SC, SC, DF, DF]),
        'm36': dict(depths=DEPTHS_36, dims=M_DIMS, mixers=[SC, SC, DF, DF]),
        'b36': dict(depths=DEPTHS_36, dims=B_DIMS, mixers=[SC, SC, DF, DF]),
    }

    def __init__(self, arch: Union[str, dict] = 's18', **kwargs):
        super().__init__(arch, **kwargs)
