"""ImageNet classifiers built from the same modules as the dense backbones, registered in
timm's model registry (when timm imports) so that ``timm.create_model('transxnet_t')`` and
timm's own ``train.py`` / ``validate.py`` work after ``import mmtokenmix.models``.

No weights are downloaded: load official files with
``timm.create_model('transxnet_t', checkpoint_path='transx-t.pth.tar')``.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from .backbones.dmformer import DMFormer
from .backbones.metaformer import CDFFormer, DFFormer, MetaFormer
from .backbones.transxnet import TransXNet
from .backbones.xformer import XFormer, XFormerBlock
from .layers import SquaredReLU
from .mixers.d_mixer import IDConv, OSRA
from .mixers.dynamic_filter import DynamicFilter
from .timm_loading import local_pretrained_kwargs, route_timm_checkpoint_loading

try:  # timm needs a working torchvision; any failure only disables the timm names
    from timm.layers import register_notrace_module
    from timm.models import build_model_with_cfg, generate_default_cfgs, register_model
except Exception:  # noqa: BLE001
    register_model = None

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class TimmClassifier:
    """What timm expects of a classifier (its model contract), shared by ours: put it before
    the backbone class (``class XClassifier(TimmClassifier, XBackbone)``) and call
    :meth:`init_timm_attributes` once the backbone is built; the subclass provides
    ``forward_head``, ``get_classifier`` and ``reset_classifier``.

    The stages are the backbone's (``forward_stages``): ``forward_features`` is the last
    stage's map, ``forward_intermediates`` returns the stages timm's ``indices`` select (NCHW),
    ``feature_info`` describes them (``features_only=True`` builds on it), and
    ``prune_intermediate_layers`` drops the stages after the last one asked for.
    """

    def init_timm_attributes(self):
        self.num_features = self.head_hidden_size = self.out_channels[-1]
        self.global_pool = 'avg'  # the subclass's reset_classifier sets what was asked for
        names = {id(m): name for name, m in self.named_modules()}
        self.feature_info = [
            dict(num_chs=self.out_channels[i], reduction=self.stage_reductions()[i],
                 module=names[id(self.stage_parts(i)[0])]) for i in range(self.num_stages)]
        self.grad_checkpointing = False

    def stage_reductions(self) -> List[int]:
        """Stride of each stage's map relative to the input (4, 8, 16, 32 unless overridden)."""
        return [4, 8, 16, 32]

    def _set_global_pool(self, global_pool: Optional[str], num_classes: int):
        """timm's ``global_pool``: ``'avg'``, or ``''`` (pass-through: ``forward`` returns the
        head's unpooled map; only without a classifier, as timm's own heads). None keeps it."""
        if global_pool is None:
            return
        if global_pool not in ('avg', ''):
            raise ValueError(f"{type(self).__name__}: global_pool must be 'avg' or '' "
                             f'(no pooling), got {global_pool!r}')
        if global_pool == '' and num_classes > 0:
            raise ValueError(f"{type(self).__name__}: global_pool='' (no pooling) needs "
                             'num_classes=0: the classifier works on pooled features')
        self.global_pool = global_pool

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """Global average pooling to (B, C), or the map itself with ``global_pool=''``."""
        return x.mean(dim=(2, 3)) if self.global_pool != '' else x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_stages(x, [self.num_stages - 1])[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_intermediates(
            self, x: torch.Tensor, indices: Optional[Union[int, List[int]]] = None,
            norm: bool = False, stop_early: bool = False, output_fmt: str = 'NCHW',
            intermediates_only: bool = False,
    ) -> Union[List[torch.Tensor], Tuple[torch.Tensor, List[torch.Tensor]]]:
        """timm's intermediate-feature API: the maps of the stages ``indices`` selects (None:
        all, int n: the last n, list: those, negative from the end), NCHW. Unless
        ``intermediates_only``, also the final features (of the last stage, or with
        ``stop_early`` of the last stage taken). ``norm`` is accepted for timm's callers: the
        stage maps have no final norm of their own here (it belongs to the head)."""
        if output_fmt != 'NCHW':
            raise ValueError(f"{type(self).__name__}.forward_intermediates: output_fmt must be "
                             f"'NCHW', got {output_fmt!r}")
        take, max_index = take_indices(self.num_stages, indices)
        last = max_index if stop_early or intermediates_only else self.num_stages - 1
        run = sorted(set(take) | {last})
        maps = dict(zip(run, self.forward_stages(x, run)))
        intermediates = [maps[i] for i in take]
        return intermediates if intermediates_only else (maps[last], intermediates)

    def prune_intermediate_layers(self, indices: Union[int, List[int]] = 1,
                                  prune_norm: bool = False, prune_head: bool = True):
        """Drop the stages after the last one ``indices`` selects (their modules become
        ``nn.Identity``, their parameters empty) and, with ``prune_head`` or when stages were
        dropped, the classifier. Returns the selected (absolute) stage numbers."""
        take, max_index = take_indices(self.num_stages, indices)
        for stage in range(max_index + 1, self.num_stages):
            for part in self.stage_parts(stage):
                self._replace_part(part)
        if max_index < self.num_stages - 1:
            self.num_features = self.head_hidden_size = self.out_channels[max_index]
            if isinstance(getattr(self, 'norm', None), nn.Module):  # sized for the last stage
                self.norm = nn.Identity()
        if prune_head or max_index < self.num_stages - 1:
            self.reset_classifier(0)
        return take

    def _replace_part(self, part):
        if isinstance(part, nn.Parameter):
            for name, p in list(self.named_parameters()):
                if p is part:
                    parent, _, leaf = name.rpartition('.')
                    setattr(self.get_submodule(parent), leaf, nn.Parameter(part.new_empty(0)))
            return
        for name, m in list(self.named_modules()):
            if m is part and name:
                parent, _, leaf = name.rpartition('.')
                setattr(self.get_submodule(parent), leaf, nn.Identity())

    def set_grad_checkpointing(self, enable: bool = True):
        super().set_grad_checkpointing(enable)
        self.grad_checkpointing = bool(enable)

    def group_matcher(self, coarse: bool = False):
        """Parameter groups for timm's layer-wise learning-rate decay (a callable from a
        parameter name to its group): the stem 0, stage ``i`` ``i + 1`` (with ``coarse=False``
        ``(i + 1, block)`` for the blocks of a stage), anything else (the head) last."""
        prefixes = [(self._part_names(self.stem_parts()), 0)]
        prefixes += [(self._part_names(self.stage_parts(i)), i + 1)
                     for i in range(self.num_stages)]

        def group_of(name: str):
            for names, group in prefixes:
                for prefix in names:
                    if name == prefix or name.startswith(prefix + '.'):
                        block = name[len(prefix) + 1:].split('.')[0]
                        if not coarse and group > 0 and block.isdigit():
                            return group, int(block)
                        return (group,)
            return (float('inf'),)
        return group_of

    def _part_names(self, parts) -> List[str]:
        names = {id(m): n for n, m in self.named_modules()}
        names.update({id(p): n for n, p in self.named_parameters()})
        return [names[id(part)] for part in parts if id(part) in names]


def take_indices(num_stages: int, indices: Optional[Union[int, Sequence[int]]]
                 ) -> Tuple[List[int], int]:
    """timm's stage selection: None -> all stages, an int n -> the last n, a sequence -> those
    stages (negative from the end). Returns the absolute stage numbers and the largest."""
    if indices is None:
        indices = num_stages
    if isinstance(indices, int):
        if not 0 < indices <= num_stages:
            raise ValueError(f'take the last n stages: n must be in 1..{num_stages}, '
                             f'got {indices}')
        taken = list(range(num_stages - indices, num_stages))
    else:
        taken = []
        for i in indices:
            if not -num_stages <= i < num_stages:
                raise ValueError(f'stage {i} out of range for {num_stages} stages')
            taken.append(i % num_stages)
    return taken, max(taken)


class TransXNetClassifier(TimmClassifier, TransXNet):
    """TransXNet image classifier (Lou et al., TNNLS 2025): the backbone's last stage, then
    GroupNorm(1) -> global average pool -> 1x1 conv, with the official parameter names
    (``classifier.0`` norm, ``classifier.2`` conv). ``num_classes=0`` returns pooled features.

    Args:
        arch / image_size / in_channels / drop_rate / drop_path_rate / with_cp / norm_cfg /
        bn_cfg / act_cfg: as for :class:`TransXNet`.
        num_classes: classifier outputs (0: none, ``forward`` returns the pooled features).
        global_pool: ``'avg'``, or ``''`` with ``num_classes=0`` for the unpooled map (timm).
    """

    def __init__(self, arch='t', num_classes: int = 1000, image_size: int = 224,
                 in_channels: int = 3, drop_rate: float = 0.0, drop_path_rate: float = 0.0,
                 with_cp: bool = False, norm_cfg: dict = dict(type='GN', num_groups=1),
                 bn_cfg: dict = dict(type='BN'), act_cfg: dict = dict(type='GELU'),
                 global_pool: str = 'avg'):
        super().__init__(arch, image_size=image_size, in_channels=in_channels, out_indices=(3,),
                         with_cp=with_cp, drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                         norm_cfg=norm_cfg, bn_cfg=bn_cfg, act_cfg=act_cfg, out_norm_cfg=None)
        self.init_timm_attributes()
        self._head_norm_cfg = norm_cfg
        self.reset_classifier(num_classes, global_pool)

    def reset_classifier(self, num_classes: int, global_pool: Optional[str] = None):
        """Replace the classifier by a freshly initialised one with ``num_classes`` outputs."""
        self._set_global_pool(global_pool, num_classes)
        self.num_classes = num_classes
        # norm, pool, 1x1 conv (an Identity without classes: no state-dict entry)
        fc = nn.Identity()
        if num_classes > 0:
            fc = nn.Conv2d(self.num_features, num_classes, 1)
            nn.init.trunc_normal_(fc.weight, std=0.02)
            nn.init.zeros_(fc.bias)
        self.classifier = nn.Sequential(
            build_norm_layer(self._head_norm_cfg, self.num_features)[1],
            nn.AdaptiveAvgPool2d(1) if self.global_pool else nn.Identity(), fc)

    def get_classifier(self) -> nn.Module:
        return self.classifier[2]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.classifier[1](self.classifier[0](x))  # norm, pool
        if self.global_pool == '':
            return x
        if not pre_logits:
            x = self.classifier[2](x)
        return x.flatten(1)


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
        num_classes: classifier outputs (0: none, ``forward`` returns the pooled features).
        global_pool: ``'avg'``, or ``''`` with ``num_classes=0`` for the unpooled map (timm).
        nominal_size: input size the filter bases are stored for (224 for the released
            weights); other sizes work too (bases resized on the fly).
        in_channels / drop_rate / drop_path_rate / with_cp: as for :class:`MetaFormer`.
        head_dropout: dropout inside the head.
    """

    def __init__(self, arch: dict, num_classes: int = 1000, nominal_size: int = 224,
                 in_channels: int = 3, drop_rate: float = 0.0, drop_path_rate: float = 0.0,
                 head_dropout: float = 0.0, with_cp: bool = False, global_pool: str = 'avg'):
        super().__init__(arch, nominal_size=nominal_size, in_channels=in_channels,
                         out_indices=(3,), with_cp=with_cp, drop_rate=drop_rate,
                         drop_path_rate=drop_path_rate, out_norm_cfg=None)
        self.init_timm_attributes()
        self.head_dropout = head_dropout
        self.norm = nn.LayerNorm(self.num_features, eps=1e-6)
        self.reset_classifier(num_classes, global_pool)

    def reset_classifier(self, num_classes: int, global_pool: Optional[str] = None):
        """Replace the head by a freshly initialised one with ``num_classes`` outputs."""
        self._set_global_pool(global_pool, num_classes)
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
        if self.global_pool == '':  # the norm at every position (channels last)
            return self.norm(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        x = self.norm(self.pool(x))
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
        arch / in_channels / attn_cfg / patch_size / drop_rate / drop_path_rate / with_cp: as
            for :class:`XFormer`.
        num_classes: classifier outputs (0: none, ``forward`` returns the pooled features).
        global_pool: ``'avg'``, or ``''`` with ``num_classes=0`` for the unpooled map (timm).
    """

    def __init__(self, arch='s', num_classes: int = 1000, in_channels: int = 3,
                 attn_cfg: dict = dict(variant='xca', num_heads=4), patch_size: int = 2,
                 drop_rate: float = 0.1, drop_path_rate: float = 0.0, with_cp: bool = False,
                 global_pool: str = 'avg'):
        super().__init__(arch, in_channels=in_channels, out_indices=(4,), attn_cfg=attn_cfg,
                         patch_size=patch_size, drop_rate=drop_rate,
                         drop_path_rate=drop_path_rate, with_cp=with_cp, last_exp_factor=4)
        self.init_timm_attributes()
        if self.conv_1x1_exp is not None:  # the last map is the expansion's output
            self.feature_info[-1]['module'] = 'conv_1x1_exp'
        self.reset_classifier(num_classes, global_pool)

    def stage_reductions(self) -> List[int]:
        strides, total = [], 2  # the stem halves the input
        for stride in self.arch['strides']:
            total *= stride
            strides.append(total)
        return strides

    def reset_classifier(self, num_classes: int, global_pool: Optional[str] = None):
        self._set_global_pool(global_pool, num_classes)
        self.num_classes = num_classes
        self.head = LinearHead(self.num_features, num_classes) if num_classes else nn.Identity()
        if num_classes:
            nn.init.trunc_normal_(self.head.fc.weight, std=0.02)
            nn.init.zeros_(self.head.fc.bias)

    def get_classifier(self) -> nn.Module:
        return self.head

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.pool(x)
        return x if pre_logits or self.global_pool == '' else self.head(x)


class DMFormerClassifier(TimmClassifier, DMFormer):
    """DMFormer image classifier (reconstruction; Wei et al., ICASSP 2023): last stage ->
    GroupNorm(1) (``norm``) -> global average pool -> linear (``head``), PoolFormer's head.
    ``num_classes=0`` returns the pooled features.

    Args:
        arch: ``'s'``, ``'m'``, ``'b'`` or a dict (see :class:`DMFormer`).
        num_classes: classifier outputs (0: none, ``forward`` returns the pooled features).
        global_pool: ``'avg'``, or ``''`` with ``num_classes=0`` for the unpooled map (timm).
        **kwargs: any other :class:`DMFormer` argument (DMA settings, norms, drop rates,
            ``with_cp``) except the dense-output ones.
    """

    def __init__(self, arch='s', num_classes: int = 1000, global_pool: str = 'avg', **kwargs):
        super().__init__(arch, out_indices=(3,), out_norm_cfg=None, **kwargs)
        self.init_timm_attributes()
        self.norm = build_norm_layer(kwargs.get('norm_cfg', dict(type='GN', num_groups=1)),
                                     self.num_features)[1]
        self.reset_classifier(num_classes, global_pool)

    def reset_classifier(self, num_classes: int, global_pool: Optional[str] = None):
        self._set_global_pool(global_pool, num_classes)
        self.num_classes = num_classes
        self.head = nn.Linear(self.num_features, num_classes) if num_classes else nn.Identity()
        if num_classes:
            nn.init.trunc_normal_(self.head.weight, std=0.02)
            nn.init.zeros_(self.head.bias)

    def get_classifier(self) -> nn.Module:
        return self.head

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.pool(self.norm(x))
        return x if pre_logits or self.global_pool == '' else self.head(x)


def _classifier_factory(cls, *args):
    """``cls(*args, **kwargs)`` with timm's ``in_chans`` taken as ``in_channels``."""
    def build(**kwargs):
        if 'in_chans' in kwargs:
            kwargs['in_channels'] = kwargs.pop('in_chans')
        return cls(*args, **kwargs)
    return build


def _entry_point(name: str, build, out_indices: Tuple[int, ...]):
    """The timm entry point ``name``: ``build`` through timm's ``build_model_with_cfg`` (which
    attaches ``pretrained_cfg`` from :data:`default_cfgs` and, for ``features_only=True``,
    wraps the model in timm's getter of ``forward_intermediates``)."""
    def create(pretrained: bool = False, **kwargs):
        if pretrained:  # timm loads them, from a local file read weights-only
            kwargs = local_pretrained_kwargs(name, kwargs)
        # timm's getter of forward_intermediates by default (NCHW maps); a caller's feature_cfg
        # (e.g. feature_cls='fx') takes precedence. The fx/hook extractors return the stage
        # modules' outputs as they are: channels-last for DFFormer/CDFFormer, which says so in
        # its output_fmt (as timm's channels-last models, e.g. Swin, do)
        feature_cfg = dict(feature_cls='getter', out_indices=out_indices)
        feature_cfg.update(kwargs.pop('feature_cfg', None) or {})
        if 'feature_cls' in kwargs:  # timm also takes it as a keyword of its own
            feature_cfg['feature_cls'] = kwargs.pop('feature_cls')
        if name.split('_')[0] in ('dfformer', 'cdfformer') and \
                feature_cfg['feature_cls'] != 'getter':
            feature_cfg.setdefault('output_fmt', 'NHWC')
        return build_model_with_cfg(build, name, pretrained, feature_cfg=feature_cfg, **kwargs)

    create.__name__ = create.__qualname__ = name
    create.__module__ = __name__  # timm looks up ``default_cfgs`` in this module
    create.__doc__ = f'{name} ImageNet classifier (timm entry point).'
    return create


def _official_url(name: str) -> str:
    from mmtokenmix.checkpoints.official import OFFICIAL_CHECKPOINTS
    entry = OFFICIAL_CHECKPOINTS.get(f'{name}_in1k')
    return entry.url if entry is not None else ''


def _pretrained_cfg(name: str, **kwargs) -> dict:
    cfg = dict(url=_official_url(name), num_classes=1000, input_size=(3, 224, 224),
               pool_size=(7, 7), crop_pct=0.9, interpolation='bicubic', mean=IMAGENET_MEAN,
               std=IMAGENET_STD)
    cfg.update(kwargs)
    return cfg


_DFFORMER_CFG = dict(crop_pct=1.0, first_conv='downsample_layers.0.conv',
                     classifier='head.fc2', license='mit')
# name: (builder, pretrained_cfg, default features_only stages)
_MODELS = {
    **{f'transxnet_{arch}': (
        _classifier_factory(TransXNetClassifier, arch),
        _pretrained_cfg(f'transxnet_{arch}', crop_pct=0.95 if arch == 'b' else 0.9,
                        first_conv='patch_embed.proj.conv', classifier='classifier.2',
                        license='apache-2.0'),
        (0, 1, 2, 3)) for arch in ('t', 's', 'b')},
    **{f'{family.__name__.lower()}_{arch}': (
        _classifier_factory(MetaFormerClassifier, family.named_arch(arch)),
        _pretrained_cfg(f'{family.__name__.lower()}_{arch}', **_DFFORMER_CFG),
        (0, 1, 2, 3)) for family in (DFFormer, CDFFormer) for arch in ('s18', 's36', 'm36', 'b36')},
    # PoolFormer's evaluation (the recipe DMFormer follows): 224 crops, crop_pct 0.9; no
    # released weights (the licence is ours: these two are reconstructions)
    **{f'dmformer_{arch}': (
        _classifier_factory(DMFormerClassifier, arch),
        _pretrained_cfg(f'dmformer_{arch}', first_conv='downsample_layers.0.0.conv',
                        classifier='head', license='apache-2.0'),
        (0, 1, 2, 3)) for arch in ('s', 'm', 'b')},
    # MobileViT's evaluation (the substitute weights): 256x256 crops of 288 resizes, inputs in
    # [0, 1]; five stages at strides 2-32
    'xformer': (
        _classifier_factory(XFormerClassifier),
        _pretrained_cfg('xformer', input_size=(3, 256, 256), pool_size=(8, 8),
                        crop_pct=256 / 288, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0),
                        first_conv='stem.conv', classifier='head.fc', license='apache-2.0'),
        (0, 1, 2, 3, 4)),
}

#: the timm entry points, by name
TIMM_MODEL_NAMES = tuple(_MODELS)

if register_model is not None:
    # leaves for timm's torch.fx feature extraction: their forward depends on the input size
    # (DFFormer's filter bases are resized to it, TransXNet's IDConv convolves each sample
    # with its own kernels and OSRA resizes its position encoding to the keys, XFormer pads to whole patches)
    for _module in (DynamicFilter, IDConv, OSRA, XFormerBlock):
        register_notrace_module(_module)
    # timm's registry reads the pretrained configs from ``default_cfgs`` of the entry points'
    # module when they are registered
    default_cfgs = generate_default_cfgs({name: cfg for name, (_, cfg, _) in _MODELS.items()})
    for _name, (_build, _, _stages) in _MODELS.items():
        globals()[_name] = register_model(_entry_point(_name, _build, _stages))
    route_timm_checkpoint_loading()
