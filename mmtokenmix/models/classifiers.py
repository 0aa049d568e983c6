"""ImageNet classifiers built from the same modules as the dense backbones, registered in
timm's model registry (when timm imports) so that ``timm.create_model('transxnet_t')`` and
timm's own ``train.py`` / ``validate.py`` work after ``import mmtokenmix.models``.

No weights are downloaded: load official files with
``timm.create_model('transxnet_t', checkpoint_path='transx-t.pth.tar')``.
"""
from functools import partial

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from .backbones.dmformer import DMFormer
from .backbones.metaformer import CDFFormer, DFFormer, MetaFormer
from .backbones.transxnet import TransXNet
from .backbones.xformer import XFormer
from .layers import SquaredReLU

try:  # timm needs a working torchvision; any failure only disables the timm names
    from timm.models import register_model
except Exception:  # noqa: BLE001
    register_model = None

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class TimmClassifier:
    """What timm expects of a classifier, shared by ours: put it before the backbone class
    (``class XClassifier(TimmClassifier, XBackbone)``); the subclass provides
    ``forward_head``, ``get_classifier`` and ``reset_classifier``, and its backbone returns the
    last stage last."""

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x)[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


class TransXNetClassifier(TimmClassifier, TransXNet):
    """TransXNet image classifier (Lou et al., TNNLS 2025): the backbone's last stage, then
    GroupNorm(1) -> global average pool -> 1x1 conv, with the official parameter names
    (``classifier.0`` norm, ``classifier.2`` conv). ``num_classes=0`` returns pooled features.

    Args:
        arch / image_size / in_channels / drop_rate / drop_path_rate / with_cp / norm_cfg /
        bn_cfg / act_cfg: as for :class:`TransXNet`.
        num_classes: classifier outputs.
    """

    def __init__(self, arch='t', num_classes: int = 1000, image_size: int = 224,
                 in_channels: int = 3, drop_rate: float = 0.0, drop_path_rate: float = 0.0,
                 with_cp: bool = False, norm_cfg: dict = dict(type='GN', num_groups=1),
                 bn_cfg: dict = dict(type='BN'), act_cfg: dict = dict(type='GELU')):
        super().__init__(arch, image_size=image_size, in_channels=in_channels, out_indices=(3,),
                         with_cp=with_cp, drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                         norm_cfg=norm_cfg, bn_cfg=bn_cfg, act_cfg=act_cfg, out_norm_cfg=None)
        self.num_features = self.out_channels[-1]
        self._head_norm_cfg = norm_cfg
        self.reset_classifier(num_classes)

    def reset_classifier(self, num_classes: int, global_pool=None):
        """Replace the classifier by a freshly initialised one with ``num_classes`` outputs."""
        self.num_classes = num_classes
        layers = [build_norm_layer(self._head_norm_cfg, self.num_features)[1],
                  nn.AdaptiveAvgPool2d(1)]
        if num_classes > 0:
            fc = nn.Conv2d(self.num_features, num_classes, 1)
            nn.init.trunc_normal_(fc.weight, std=0.02)
            nn.init.zeros_(fc.bias)
            layers.append(fc)
        self.classifier = nn.Sequential(*layers)

    def get_classifier(self) -> nn.Module:
        return self.classifier[-1]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        head = self.classifier[:2] if pre_logits else self.classifier
        return head(x).flatten(1)


class MlpHead(nn.Module):
    """MetaFormer's classification head: ``fc1`` (C -> 4C) -> SquaredReLU -> LayerNorm ->
    dropout -> ``fc2`` (4C -> classes), with biases."""

    def __init__(self, channels: int, num_classes: int, mlp_ratio: float = 4.0,
                 head_dropout: float = 0.0):
        super().__init__()
        hidden = int(mlp_ratio * channels)
        self.fc1 = nn.Linear(channels, hidden)
        self.act = SquaredReLU()
        self.norm = nn.LayerNorm(hidden)
        self.head_dropout = nn.Dropout(head_dropout)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.head_dropout(self.norm(self.act(self.fc1(x)))))


class MetaFormerClassifier(TimmClassifier, MetaFormer):
    """ImageNet classifier on a :class:`MetaFormer` (DFFormer, CDFFormer, ...; Tatsunami &
    Taki, AAAI 2024): last stage -> global average pool -> LayerNorm (``norm``) ->
    :class:`MlpHead` (``head``), with the official parameter names. ``num_classes=0`` returns
    the normed pooled features.

    Args:
        arch: a settings dict (e.g. ``DFFormer.named_arch('s18')``).
        num_classes: classifier outputs.
        nominal_size: input size the filter bases are stored for (224 for the released
            weights); other sizes work too (bases resized on the fly).
        in_channels / drop_rate / drop_path_rate / with_cp: as for :class:`MetaFormer`.
        head_dropout: dropout inside the head.
    """

    def __init__(self, arch: dict, num_classes: int = 1000, nominal_size: int = 224,
                 in_channels: int = 3, drop_rate: float = 0.0, drop_path_rate: float = 0.0,
                 head_dropout: float = 0.0, with_cp: bool = False):
        super().__init__(arch, nominal_size=nominal_size, in_channels=in_channels,
                         out_indices=(3,), with_cp=with_cp, drop_rate=drop_rate,
                         drop_path_rate=drop_path_rate, out_norm_cfg=None)
        self.num_features = self.out_channels[-1]
        self.head_dropout = head_dropout
        self.norm = nn.LayerNorm(self.num_features, eps=1e-6)
        self.reset_classifier(num_classes)

    def reset_classifier(self, num_classes: int, global_pool=None):
        """Replace the head by a freshly initialised one with ``num_classes`` outputs."""
        self.num_classes = num_classes
        if num_classes > 0:
            self.head = MlpHead(self.num_features, num_classes, head_dropout=self.head_dropout)
            for fc in (self.head.fc1, self.head.fc2):
                nn.init.trunc_normal_(fc.weight, std=0.02)
                nn.init.zeros_(fc.bias)
        else:
            self.head = nn.Identity()

    def get_classifier(self) -> nn.Module:
        return self.head

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.norm(x.mean(dim=(2, 3)))
        return x if pre_logits else self.head(x)


class LinearHead(nn.Module):
    """Dropout -> ``fc`` (mmpretrain's ``LinearClsHead`` key layout ``head.fc.*``)."""

    def __init__(self, channels: int, num_classes: int, dropout: float = 0.1):
        super().__init__()
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(x))


class XFormerClassifier(TimmClassifier, XFormer):
    """XFormer image classifier (reconstruction; Zhao et al., arXiv 2207.07268): stage 4 ->
    1x1 expansion to 640 -> global average pool -> dropout(0.1) -> linear, MobileViT-S's head
    with mmpretrain's names (``conv_1x1_exp``, ``head.fc``). ``num_classes=0`` returns the
    pooled features.

    Args:
        arch / attn_cfg / patch_size / drop_rate / drop_path_rate / with_cp: as for
            :class:`XFormer`.
        num_classes: classifier outputs.
    """

    def __init__(self, arch='s', num_classes: int = 1000, attn_cfg: dict = dict(
            variant='xca', num_heads=4), patch_size: int = 2, drop_rate: float = 0.1,
            drop_path_rate: float = 0.0, with_cp: bool = False):
        super().__init__(arch, out_indices=(4,), attn_cfg=attn_cfg, patch_size=patch_size,
                         drop_rate=drop_rate, drop_path_rate=drop_path_rate, with_cp=with_cp,
                         last_exp_factor=4)
        self.num_features = self.out_channels[-1]
        self.reset_classifier(num_classes)

    def reset_classifier(self, num_classes: int, global_pool=None):
        self.num_classes = num_classes
        self.head = LinearHead(self.num_features, num_classes) if num_classes else nn.Identity()
        if num_classes:
            nn.init.trunc_normal_(self.head.fc.weight, std=0.02)
            nn.init.zeros_(self.head.fc.bias)

    def get_classifier(self) -> nn.Module:
        return self.head

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = x.mean(dim=(2, 3))
        return x if pre_logits else self.head(x)


class DMFormerClassifier(TimmClassifier, DMFormer):
    """DMFormer image classifier (reconstruction; Wei et al., ICASSP 2023): last stage ->
    GroupNorm(1) (``norm``) -> global average pool -> linear (``head``), PoolFormer's head.
    ``num_classes=0`` returns the pooled features.

    Args:
        arch: ``'s'``, ``'m'``, ``'b'`` or a dict (see :class:`DMFormer`).
        num_classes: classifier outputs.
        **kwargs: any other :class:`DMFormer` argument (DMA settings, norms, drop rates,
            ``with_cp``) except the dense-output ones.
    """

    def __init__(self, arch='s', num_classes: int = 1000, **kwargs):
        super().__init__(arch, out_indices=(3,), out_norm_cfg=None, **kwargs)
        self.num_features = self.out_channels[-1]
        self.norm = build_norm_layer(kwargs.get('norm_cfg', dict(type='GN', num_groups=1)),
                                     self.num_features)[1]
        self.reset_classifier(num_classes)

    def reset_classifier(self, num_classes: int, global_pool=None):
        self.num_classes = num_classes
        self.head = nn.Linear(self.num_features, num_classes) if num_classes else nn.Identity()
        if num_classes:
            nn.init.trunc_normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)

    def get_classifier(self) -> nn.Module:
        return self.head

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.norm(x).mean(dim=(2, 3))
        return x if pre_logits else self.head(x)


def _timm_factory(name: str, build, default_cfg: dict):
    """A timm entry point ``name`` returning ``build(**kwargs)`` with ``default_cfg``."""
    def create(pretrained: bool = False, **kwargs):
        if pretrained:
            raise RuntimeError(
                f'{name}: mmtokenmix never downloads weights; pass the official file '
                f"with timm.create_model('{name}', checkpoint_path='...')")
        for key in ('pretrained_cfg', 'pretrained_cfg_overlay', 'cache_dir'):
            kwargs.pop(key, None)
        model = build(**kwargs)
        cfg = dict(num_classes=model.num_classes, input_size=(3, 224, 224),
                   interpolation='bicubic', mean=IMAGENET_MEAN, std=IMAGENET_STD)
        cfg.update(default_cfg)
        model.pretrained_cfg = model.default_cfg = cfg
        return model

    create.__name__ = create.__qualname__ = name
    create.__doc__ = f'{name} ImageNet classifier (timm entry point).'
    return create


def _transxnet(arch: str, crop_pct: float):
    return _timm_factory(
        f'transxnet_{arch}', lambda **kw: TransXNetClassifier(arch, **kw),
        dict(pool_size=(7, 7), crop_pct=crop_pct, first_conv='patch_embed.proj.conv',
             classifier='classifier.2'))


def _metaformer(family, arch: str):
    settings = family.named_arch(arch)
    return _timm_factory(
        f'{family.__name__.lower()}_{arch}',
        lambda **kw: MetaFormerClassifier(settings, **kw),
        dict(pool_size=None, crop_pct=1.0, first_conv='downsample_layers.0.conv',
             classifier='head.fc2'))


transxnet_t = _transxnet('t', crop_pct=0.9)
transxnet_s = _transxnet('s', crop_pct=0.9)
transxnet_b = _transxnet('b', crop_pct=0.95)
dfformer_s18 = _metaformer(DFFormer, 's18')
dfformer_s36 = _metaformer(DFFormer, 's36')
dfformer_m36 = _metaformer(DFFormer, 'm36')
dfformer_b36 = _metaformer(DFFormer, 'b36')
cdfformer_s18 = _metaformer(CDFFormer, 's18')
cdfformer_s36 = _metaformer(CDFFormer, 's36')
cdfformer_m36 = _metaformer(CDFFormer, 'm36')
cdfformer_b36 = _metaformer(CDFFormer, 'b36')
# PoolFormer's evaluation (the recipe DMFormer follows): 224 crops, crop_pct 0.9
dmformer_s, dmformer_m, dmformer_b = (_timm_factory(
    f'dmformer_{arch}', partial(DMFormerClassifier, arch), dict(
        pool_size=(7, 7), crop_pct=0.9, first_conv='downsample_layers.0.0.conv',
        classifier='head')) for arch in ('s', 'm', 'b'))
# MobileViT's evaluation (the substitute weights): 256x256 crops of 288 resizes, inputs in [0, 1]
xformer = _timm_factory('xformer', lambda **kw: XFormerClassifier(**kw), dict(
    input_size=(3, 256, 256), pool_size=(8, 8), crop_pct=256 / 288, mean=(0.0, 0.0, 0.0),
    std=(1.0, 1.0, 1.0), first_conv='stem.conv', classifier='head.fc'))

if register_model is not None:
    for _fn in (transxnet_t, transxnet_s, transxnet_b, dfformer_s18, dfformer_s36,
                dfformer_m36, dfformer_b36, cdfformer_s18, cdfformer_s36, cdfformer_m36,
                cdfformer_b36, xformer, dmformer_s, dmformer_m, dmformer_b):
        register_model(_fn)
