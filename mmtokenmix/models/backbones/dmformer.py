"""DMFormer backbone (Wei et al., "DMFormer: Closing the Gap Between CNN and Vision
Transformers", ICASSP 2023, arXiv 2209.07738).

**A reconstruction**: no official code or weights exist and the paper's architecture and
result tables were not available. What is from the paper (via a reading note): the DMA gate
equations, the conv stem "7x7 s2, 3x3 s1, non-overlapping 2x2 s2", the MetaFormer layout with
DMA in place of self-attention, and the recipes. Everything else follows the proposals of
docs/dmformer.md and is an argument: PoolFormer-style blocks (GroupNorm(1)
pre-norms, layer scale 1e-5, 1x1-conv MLP with GELU), 2x2/2 conv + norm downsampling,
widths/depths chosen to match the parameter counts of the models the paper compares with
(:attr:`DMFormer.arch_settings`).

Parameter names (our choice, MetaFormer style like DFFormer): ``downsample_layers.0`` (the
stem: ``0``/``1`` conv+BN+GELU, ``2`` the 2x2 conv + norm), ``downsample_layers.{1,2,3}``,
``stages.{i}.{j}.{norm1, token_mixer.{branches.k, fuse, gate.fc1, gate.fc2}, layer_scale1,
norm2, mlp.fc1, mlp.fc2, layer_scale2}``, output norms ``norm{i}``.
"""

from functools import partial
from typing import Optional, Sequence, Union

import torch.nn as nn
from mmcv.cnn import build_activation_layer, build_norm_layer

from mmtokenmix.registry import MODELS

from ..layers import ConvNormAct, ConvPatchEmbed, MetaFormerBlock, MetaFormerMlp
from ..mixers.dma import DMA
from .skeleton import MetaFormerSkeleton

PF_DIMS, PF_M_DIMS = [64, 128, 320, 512], [96, 192, 384, 768]


@MODELS.register_module()
class DMFormer(MetaFormerSkeleton):
    """DMFormer for dense prediction (reconstruction, see the module docstring): a tuple of
    NCHW maps at strides 4/8/16/32 (sizes ``ceil(H / stride)``, any input size).

    Args:
        arch: ``'s'``, ``'m'``, ``'b'`` (see :attr:`arch_settings`) or a dict with ``depths``
            and ``dims`` (4 values each) and optionally ``mlp_ratios`` (default 4).
        in_channels: input image channels.
        out_indices / frozen_stages / norm_eval / with_cp / init_cfg / pretrained: see
            :class:`~mmtokenmix.models.backbones.base.DenseBackbone`.
        kernel_sizes / dilations / branch_mode / fusion / gate_reduction / gate_input /
            projection: the DMA token mixer, see :class:`~mmtokenmix.models.mixers.dma.DMA`
            (defaults: kernels 3, 5, 7 with dilations 1, 2, 3 in parallel, summed, gate
            C -> C/4 -> C on the mixer input, no projection wrapper).
        mlp_dwconv: VAN-style depthwise 3x3 inside the MLP.
        layer_scale_init_value: initial layer scale of both branches (None: no layer scale).
        drop_rate: MLP dropout.
        drop_path_rate: stochastic depth of the last block (linear from 0 over all blocks).
        norm_cfg: block pre-norms and the norms after the 2x2 convs (GroupNorm(1) as in
            PoolFormer; e.g. ``dict(type='BN')`` as in VAN).
        stem_norm_cfg / act_cfg: norm and activation after the stem's 7x7 and 3x3 convs; the
            activation is also the MLP's.
        out_norm_cfg: output norm per returned stage (``'same'``: ``norm_cfg``; None: none).
    """

    arch_settings = {
        # PoolFormer widths; depths: the PoolFormer-like [d, d, k, d] whose ImageNet classifier
        # (GN + linear head) is closest to the comparator of similar size (docs/dmformer.md):
        # 21,450,520 vs PoolFormer-S24 21,388,968 (+0.3%), 30,978,360 vs S36 30,862,760
        # (+0.4%), 56,510,824 vs M36 56,172,520 (+0.6%)
        's': dict(depths=[4, 4, 9, 4], dims=PF_DIMS),
        'm': dict(depths=[6, 6, 13, 6], dims=PF_DIMS),
        'b': dict(depths=[6, 6, 12, 6], dims=PF_M_DIMS),
    }
    arch_aliases = {'small': 's', 'medium': 'm', 'base': 'b'}
    arch_defaults = dict(mlp_ratios=[4, 4, 4, 4])
    # an ImageNet checkpoint of DMFormerClassifier (timm) has these beyond the backbone
    classifier_prefixes = ('head.', 'norm.')

    def __init__(
        self,
        arch: Union[str, dict] = 's',
        in_channels: int = 3,
        out_indices: Sequence[int] = (0, 1, 2, 3),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        with_cp: Union[bool, Sequence[bool]] = False,
        kernel_sizes: Sequence[int] = (3, 5, 7),
        dilations: Sequence[int] = (1, 2, 3),
        branch_mode: str = 'parallel',
        fusion: str = 'sum',
        gate_reduction: int = 4,
        gate_input: str = 'input',
        projection: bool = False,
        mlp_dwconv: bool = False,
        layer_scale_init_value: float = 1e-5,
        drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        norm_cfg: dict = dict(type='GN', num_groups=1),
        stem_norm_cfg: dict = dict(type='BN'),
        act_cfg: dict = dict(type='GELU'),
        out_norm_cfg: Union[dict, str] = 'same',
        init_cfg: dict = None,
        pretrained: Optional[str] = None,
    ):
        super().__init__(
            in_channels, out_indices, frozen_stages, norm_eval, with_cp, init_cfg, pretrained
        )
        self.arch = arch = self.parse_arch(arch)
        dims = self.out_channels = list(arch['dims'])
        self.out_norm_cfg = norm_cfg if out_norm_cfg == 'same' else out_norm_cfg
        mixer = partial(
            DMA,
            kernel_sizes=kernel_sizes,
            dilations=dilations,
            branch_mode=branch_mode,
            fusion=fusion,
            gate_reduction=gate_reduction,
            gate_input=gate_input,
            projection=projection,
            act_cfg=act_cfg,
        )
        mixer(dims[0])  # validate the DMA settings before building anything big

        def norm_layer(channels: int) -> nn.Module:
            return build_norm_layer(norm_cfg, channels)[1]

        def make_block(i: int, drop_path: float) -> MetaFormerBlock:
            mlp = MetaFormerMlp(
                dims[i],
                arch['mlp_ratios'][i],
                drop=drop_rate,
                act_layer=partial(build_activation_layer, act_cfg),
                bias=True,
                channels_last=False,
                mid_dwconv=mlp_dwconv,
            )
            return MetaFormerBlock(
                dims[i],
                mixer(dims[i]),
                drop_path=drop_path,
                layer_scale_init_value=layer_scale_init_value,
                norm_layer=norm_layer,
                mlp=mlp,
                channels_last=False,
            )

        stem_mid = dims[0] // 2
        stem = nn.Sequential(
            ConvNormAct(
                in_channels,
                stem_mid,
                kernel_size=7,
                stride=2,
                padding=3,
                norm_cfg=stem_norm_cfg,
                act_cfg=act_cfg,
            ),
            ConvNormAct(
                stem_mid,
                stem_mid,
                kernel_size=3,
                padding=1,
                norm_cfg=stem_norm_cfg,
                act_cfg=act_cfg,
            ),
            ConvPatchEmbed(
                stem_mid,
                dims[0],
                kernel_size=2,
                stride=2,
                padding=0,
                norm_cfg=norm_cfg,
                pad_to_stride=True,
            ),
        )
        downsampling = [
            ConvPatchEmbed(
                dims[i - 1],
                dims[i],
                kernel_size=2,
                stride=2,
                padding=0,
                norm_cfg=norm_cfg,
                pad_to_stride=True,
            )
            for i in range(1, 4)
        ]
        self.build_hierarchy([stem] + downsampling, make_block, arch['depths'], drop_path_rate)

    @classmethod
    def check_arch(cls, arch: dict):
        if arch['dims'][0] < 2:
            raise ValueError(
                f'DMFormer: dims[0] must be at least 2 (the stem runs at half '
                f'width), got {arch["dims"][0]}'
            )
