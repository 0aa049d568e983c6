"""The timm entry points of our classifiers: one ``@register_model`` function per variant, as
timm's own model files have, so ``timm.create_model('transxnet_t')`` and timm's ``train.py`` /
``validate.py`` work after ``import mmtokenmix.models`` (when timm imports).

No weights are downloaded: load official files with
``timm.create_model('transxnet_t', checkpoint_path='transx-t.pth.tar')``.
"""

from typing import Callable, Tuple

import torch.nn as nn

from ..backbones.metaformer import CDFFormer, DFFormer
from ..backbones.xformer import XFormerBlock
from ..mixers.d_mixer import OSRA, IDConv
from ..mixers.dynamic_filter import DynamicFilter
from ..timm_loading import local_pretrained_kwargs, route_timm_checkpoint_loading
from .dmformer import DMFormerClassifier
from .metaformer import MetaFormerClassifier
from .transxnet import TransXNetClassifier
from .xformer import XFormerClassifier

try:  # timm needs a working torchvision; any failure only disables the timm names
    from timm.layers import register_notrace_module
    from timm.models import build_model_with_cfg, generate_default_cfgs, register_model

    TIMM_AVAILABLE = True
except Exception:  # noqa: BLE001
    TIMM_AVAILABLE = False

    def register_model(fn):
        return fn


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _official_url(name: str) -> str:
    from mmtokenmix.checkpoints.official import OFFICIAL_CHECKPOINTS

    entry = OFFICIAL_CHECKPOINTS.get(f'{name}_in1k')
    return entry.url if entry is not None else ''


def _pretrained_cfg(name: str, **kwargs) -> dict:
    cfg = dict(
        url=_official_url(name),
        num_classes=1000,
        input_size=(3, 224, 224),
        pool_size=(7, 7),
        crop_pct=0.9,
        interpolation='bicubic',
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
    )
    cfg.update(kwargs)
    return cfg


def _transxnet_cfg(arch: str) -> dict:
    return _pretrained_cfg(
        f'transxnet_{arch}',
        crop_pct=0.95 if arch == 'b' else 0.9,
        first_conv='patch_embed.proj.conv',
        classifier='classifier.2',
        license='apache-2.0',
    )


def _dfformer_cfg(name: str) -> dict:
    return _pretrained_cfg(
        name,
        crop_pct=1.0,
        first_conv='downsample_layers.0.conv',
        classifier='head.fc2',
        license='mit',
    )


def _dmformer_cfg(arch: str) -> dict:
    # PoolFormer's evaluation (the recipe DMFormer follows): 224 crops, crop_pct 0.9; no
    # released weights (the licence is ours: a reconstruction)
    return _pretrained_cfg(
        f'dmformer_{arch}',
        first_conv='downsample_layers.0.0.conv',
        classifier='head',
        license='apache-2.0',
    )


# MobileViT's evaluation (the substitute weights): 256x256 crops of 288 resizes, inputs in
# [0, 1]; five stages at strides 2-32
_XFORMER_CFG = _pretrained_cfg(
    'xformer',
    input_size=(3, 256, 256),
    pool_size=(8, 8),
    crop_pct=256 / 288,
    mean=(0.0, 0.0, 0.0),
    std=(1.0, 1.0, 1.0),
    first_conv='stem.conv',
    classifier='head.fc',
    license='apache-2.0',
)

_PRETRAINED_CFGS = {
    **{f'transxnet_{arch}': _transxnet_cfg(arch) for arch in ('t', 's', 'b')},
    **{
        f'{family}_{arch}': _dfformer_cfg(f'{family}_{arch}')
        for family in ('dfformer', 'cdfformer')
        for arch in ('s18', 's36', 'm36', 'b36')
    },
    **{f'dmformer_{arch}': _dmformer_cfg(arch) for arch in ('s', 'm', 'b')},
    'xformer': _XFORMER_CFG,
}
#: the timm entry points, by name
TIMM_MODEL_NAMES = tuple(_PRETRAINED_CFGS)

if TIMM_AVAILABLE:
    # timm's register_model reads each entry point's pretrained config from ``default_cfgs``
    # of the entry point's module, so it is defined before the functions below
    default_cfgs = generate_default_cfgs(_PRETRAINED_CFGS)
    # leaves for timm's torch.fx feature extraction: their forward depends on the input size
    # (DFFormer's filter bases are resized to it, TransXNet's IDConv convolves each sample
    # with its own kernels and OSRA resizes its position encoding to the keys, XFormer pads
    # to whole patches)
    for _module in (DynamicFilter, IDConv, OSRA, XFormerBlock):
        register_notrace_module(_module)


def _create(
    name: str,
    cls: Callable[..., nn.Module],
    args: tuple,
    pretrained: bool,
    feature_stages: Tuple[int, ...] = (0, 1, 2, 3),
    **kwargs,
) -> nn.Module:
    """``cls(*args, **kwargs)`` through timm's ``build_model_with_cfg`` (which attaches the
    ``pretrained_cfg`` and, for ``features_only=True``, wraps the model in timm's getter of
    ``forward_intermediates``, by default of ``feature_stages``)."""

    def build(**build_kwargs):  # timm's in_chans (also added by timm itself) is in_channels
        if 'in_chans' in build_kwargs:
            build_kwargs['in_channels'] = build_kwargs.pop('in_chans')
        return cls(*args, **build_kwargs)

    if pretrained:  # timm loads them, from a local file read weights-only
        kwargs = local_pretrained_kwargs(name, kwargs)
    # timm's getter of forward_intermediates by default (NCHW maps); a caller's feature_cfg
    # (e.g. feature_cls='fx') takes precedence. The fx/hook extractors return the stage
    # modules' outputs as they are: channels-last for DFFormer/CDFFormer, which says so in
    # its output_fmt (as timm's channels-last models, e.g. Swin, do)
    feature_cfg = dict(feature_cls='getter', out_indices=feature_stages)
    feature_cfg.update(kwargs.pop('feature_cfg', None) or {})
    if 'feature_cls' in kwargs:  # timm also takes it as a keyword of its own
        feature_cfg['feature_cls'] = kwargs.pop('feature_cls')
    if name.split('_')[0] in ('dfformer', 'cdfformer') and feature_cfg['feature_cls'] != 'getter':
        feature_cfg.setdefault('output_fmt', 'NHWC')
    return build_model_with_cfg(build, name, pretrained, feature_cfg=feature_cfg, **kwargs)


def _transxnet(name: str, arch: str, pretrained: bool, **kwargs) -> TransXNetClassifier:
    return _create(name, TransXNetClassifier, (arch,), pretrained, **kwargs)


def _metaformer(name: str, arch: dict, pretrained: bool, **kwargs) -> MetaFormerClassifier:
    return _create(name, MetaFormerClassifier, (arch,), pretrained, **kwargs)


def _dmformer(name: str, arch: str, pretrained: bool, **kwargs) -> DMFormerClassifier:
    return _create(name, DMFormerClassifier, (arch,), pretrained, **kwargs)


@register_model
def transxnet_t(pretrained: bool = False, **kwargs) -> TransXNetClassifier:
    """TransXNet-T, ImageNet-1K classifier."""
    return _transxnet('transxnet_t', 't', pretrained, **kwargs)


@register_model
def transxnet_s(pretrained: bool = False, **kwargs) -> TransXNetClassifier:
    """TransXNet-S, ImageNet-1K classifier."""
    return _transxnet('transxnet_s', 's', pretrained, **kwargs)


@register_model
def transxnet_b(pretrained: bool = False, **kwargs) -> TransXNetClassifier:
    """TransXNet-B, ImageNet-1K classifier."""
    return _transxnet('transxnet_b', 'b', pretrained, **kwargs)


@register_model
def dfformer_s18(pretrained: bool = False, **kwargs) -> MetaFormerClassifier:
    """DFFormer-S18, ImageNet-1K classifier."""
    return _metaformer('dfformer_s18', DFFormer.named_arch('s18'), pretrained, **kwargs)


@register_model
def dfformer_s36(pretrained: bool = False, **kwargs) -> MetaFormerClassifier:
    """DFFormer-S36, ImageNet-1K classifier."""
    return _metaformer('dfformer_s36', DFFormer.named_arch('s36'), pretrained, **kwargs)


@register_model
def dfformer_m36(pretrained: bool = False, **kwargs) -> MetaFormerClassifier:
    """DFFormer-M36, ImageNet-1K classifier."""
    return _metaformer('dfformer_m36', DFFormer.named_arch('m36'), pretrained, **kwargs)


@register_model
def dfformer_b36(pretrained: bool = False, **kwargs) -> MetaFormerClassifier:
    """DFFormer-B36, ImageNet-1K classifier."""
    return _metaformer('dfformer_b36', DFFormer.named_arch('b36'), pretrained, **kwargs)


@register_model
def cdfformer_s18(pretrained: bool = False, **kwargs) -> MetaFormerClassifier:
    """CDFFormer-S18, ImageNet-1K classifier."""
    return _metaformer('cdfformer_s18', CDFFormer.named_arch('s18'), pretrained, **kwargs)


@register_model
def cdfformer_s36(pretrained: bool = False, **kwargs) -> MetaFormerClassifier:
    """CDFFormer-S36, ImageNet-1K classifier."""
    return _metaformer('cdfformer_s36', CDFFormer.named_arch('s36'), pretrained, **kwargs)


@register_model
def cdfformer_m36(pretrained: bool = False, **kwargs) -> MetaFormerClassifier:
    """CDFFormer-M36, ImageNet-1K classifier."""
    return _metaformer('cdfformer_m36', CDFFormer.named_arch('m36'), pretrained, **kwargs)


@register_model
def cdfformer_b36(pretrained: bool = False, **kwargs) -> MetaFormerClassifier:
    """CDFFormer-B36, ImageNet-1K classifier."""
    return _metaformer('cdfformer_b36', CDFFormer.named_arch('b36'), pretrained, **kwargs)


@register_model
def dmformer_s(pretrained: bool = False, **kwargs) -> DMFormerClassifier:
    """DMFormer-S (reconstruction, no released weights), ImageNet-1K classifier."""
    return _dmformer('dmformer_s', 's', pretrained, **kwargs)


@register_model
def dmformer_m(pretrained: bool = False, **kwargs) -> DMFormerClassifier:
    """DMFormer-M (reconstruction, no released weights), ImageNet-1K classifier."""
    return _dmformer('dmformer_m', 'm', pretrained, **kwargs)


@register_model
def dmformer_b(pretrained: bool = False, **kwargs) -> DMFormerClassifier:
    """DMFormer-B (reconstruction, no released weights), ImageNet-1K classifier."""
    return _dmformer('dmformer_b', 'b', pretrained, **kwargs)


@register_model
def xformer(pretrained: bool = False, **kwargs) -> XFormerClassifier:
    """XFormer (reconstruction, no released weights; MobileViT-S's head), ImageNet-1K
    classifier with five feature stages (strides 2-32)."""
    return _create(
        'xformer', XFormerClassifier, (), pretrained, feature_stages=(0, 1, 2, 3, 4), **kwargs
    )


if TIMM_AVAILABLE:
    route_timm_checkpoint_loading()
