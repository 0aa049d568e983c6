"""What every mmtokenmix dense backbone does the same way, written once.

**The construction contract.** A backbone subclasses :class:`DenseBackbone` and, in its
``__init__``:

1. calls ``super().__init__(in_channels, out_indices, frozen_stages, norm_eval, with_cp,
   init_cfg, pretrained)`` first (these are validated and set here: ``self.in_channels``,
   ``self.out_indices``, ``self.frozen_stages``, ``self.norm_eval``, ``self.with_cp``);
2. parses its ``arch`` with :meth:`parse_arch` (one layout for every backbone: a dict of
   per-stage lists, ``depths`` and ``dims`` always among them; named settings in
   :attr:`arch_settings`);
3. builds its layers, each stage's blocks in a :class:`StageBlocks`
   (``StageBlocks(blocks, self.with_cp[i])``), and sets ``self.out_channels`` (the width of
   every stage) and ``self.out_norm_cfg`` (the norm of each returned stage, or None).

It also implements the hooks of the one stage loop, :meth:`forward_stages` (input check, stem,
stages up to the last one asked for, output norms; ``forward`` is ``forward_stages(x,
self.out_indices)``, timm's ``forward_intermediates`` uses other indices): ``forward_stem`` and
``forward_stage``, plus :meth:`stem_parts` / :meth:`stage_parts` (what ``frozen_stages``
freezes) and :meth:`reset_parameters` (the paper's initialisation). They are abstract methods:
a class that lacks one cannot be built.

When the outermost ``__init__`` returns (the backbone's, or that of a classifier built on it),
the metaclass calls :meth:`finish_construction`: it adds the output norms, initialises the
parameters and freezes the frozen stages -- no subclass calls it. (A template step, not a call
at the end of each ``__init__``: a classifier adds its head after the backbone's ``__init__``
has returned, and the initialisation must see the head.)

This class then provides: ``out_indices`` (stage numbers, negative allowed); ``frozen_stages``
(-1: nothing, 0: the stem, k: the stem and stages 0..k-1) kept frozen and in eval mode across
``train()`` calls; ``norm_eval`` (BatchNorm layers stay in eval mode while training); ``with_cp``
(a bool or one bool per stage); ``init_cfg``: ``None`` or empty gives the paper's initialisation,
``dict(type='Pretrained', checkpoint=..., prefix=...)`` loads an official checkpoint with a
strict key check (only the classifier may be unexpected and only the output norms missing;
anything else raises :class:`~mmtokenmix.checkpoints.CheckpointMismatchError` listing the keys).
"""

import copy
import os.path as osp
import re
from abc import ABCMeta, abstractmethod
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch.fx._symbolic_trace import is_fx_tracing
from torch.nn.modules.batchnorm import _BatchNorm

from mmtokenmix.checkpoints import (
    extract_state_dict,
    load_checkpoint_file,
    load_state_dict_checked,
    strip_prefix,
)
from mmtokenmix.checkpoints.loading import keys_with_prefixes

Part = Union[nn.Module, nn.Parameter]


def _autocast_enabled(device_type: str) -> bool:
    try:
        return torch.is_autocast_enabled(device_type)
    except TypeError:  # torch < 2.4 takes no device type
        return torch.is_autocast_enabled() or torch.is_autocast_cpu_enabled()


class StageBlocks(nn.Sequential):
    """The blocks of one stage, applied in turn (keys ``0``, ``1``, ... as ``nn.Sequential``).

    With ``grad_checkpointing`` each block's activations are recomputed in the backward pass
    instead of stored (per stage, as timm's ``MetaFormerStage``; not in a TorchScript model).
    """

    def __init__(self, blocks: Iterable[nn.Module], grad_checkpointing: bool = False):
        super().__init__(*blocks)
        self.grad_checkpointing = grad_checkpointing

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting():
            if self.grad_checkpointing and x.requires_grad:
                for block in self:
                    x = cp.checkpoint(block, x, use_reentrant=False)
                return x
        for block in self:
            x = block(x)
        return x


class _FinishedAfterInit(ABCMeta):
    """Runs :meth:`DenseBackbone.finish_construction` once the outermost ``__init__`` (a
    backbone's, or a classifier's built on it) has returned (see the module docstring)."""

    def __call__(cls, *args, **kwargs):
        module = super().__call__(*args, **kwargs)
        module.finish_construction()
        return module


class DenseBackbone(BaseModule, metaclass=_FinishedAfterInit):
    """Base class of the dense (multi-scale) backbones; see the module docstring.

    Args:
        in_channels: input image channels.
        out_indices: stages whose maps ``forward`` returns (increasing; negative from the end).
        frozen_stages: -1 (none), 0 (the stem) or k (the stem and stages 0..k-1).
        norm_eval: keep BatchNorm layers in eval mode while training.
        with_cp: gradient checkpointing, for every stage or one flag per stage.
        init_cfg: None or empty (the paper's init), ``dict(type='Pretrained', checkpoint=...,
            prefix=...)`` (``type`` may be left out there) or any other mmengine initializer
            (applied after the paper's init).
        pretrained: a checkpoint path or URL, short for ``init_cfg=dict(type='Pretrained',
            checkpoint=pretrained)`` (as mmseg's backbones take it: mmseg's segmentors pass
            ``model.pretrained`` here). Not together with ``init_cfg``; the stock backbones'
            weights (``open-mmlab://``, ``torchvision://``, ``mmcls://``) are an error.
    """

    num_stages = 4
    #: the layout of the maps between stages: NCHW, or NHWC (``True``; the returned maps are
    #: permuted to NCHW after their output norms)
    channels_last = False
    __constants__ = ['num_stages', 'channels_last']  # class attributes TorchScript reads
    # mmengine's BaseModule property, not used by any forward (torch.jit.script would compile it)
    __jit_unused_properties__ = ['is_init']
    #: prefixes of checkpoint keys that belong to a classification head (allowed to be unused)
    classifier_prefixes: Tuple[str, ...] = ('classifier.', 'head.')
    #: named architectures (``arch='name'``) and alternative names for them
    arch_settings: Dict[str, dict] = {}
    arch_aliases: Dict[str, str] = {}
    #: per-stage entries an arch dict must have, and optional ones with their defaults
    arch_keys: Tuple[str, ...] = ('depths', 'dims')
    arch_defaults: Dict[str, list] = {}

    def __init__(
        self,
        in_channels: int = 3,
        out_indices: Sequence[int] = (0, 1, 2, 3),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        with_cp: Union[bool, Sequence[bool]] = False,
        init_cfg: dict = None,
        pretrained: Optional[str] = None,
    ):
        init_cfg = self.pretrained_init_cfg(pretrained, self.normalise_init_cfg(init_cfg))
        if init_cfg is not None and not isinstance(init_cfg, (dict, list)):
            hint = (
                f": to load a checkpoint, init_cfg=dict(type='Pretrained', checkpoint={init_cfg!r})"
                if isinstance(init_cfg, str)
                else ''
            )
            raise TypeError(
                f'init_cfg must be None, a dict or a list of dicts, got '
                f'{type(init_cfg).__name__} {init_cfg!r}{hint}'
            )
        if (
            isinstance(init_cfg, dict)
            and init_cfg.get('type') == 'Pretrained'
            and not isinstance(init_cfg.get('checkpoint'), str)
        ):
            raise ValueError(
                f"init_cfg of type 'Pretrained' needs checkpoint=<path or URL>, "
                f'got {dict(init_cfg)!r}'
            )
        super().__init__(init_cfg=init_cfg)
        if not isinstance(in_channels, int) or in_channels < 1:
            raise ValueError(f'in_channels must be a positive int, got {in_channels!r}')
        self.in_channels = in_channels
        self.out_indices = self._parse_out_indices(out_indices)
        if not isinstance(frozen_stages, int) or not -1 <= frozen_stages <= self.num_stages:
            raise ValueError(
                f'frozen_stages must be an int in [-1, {self.num_stages}], got {frozen_stages!r}'
            )
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        if isinstance(with_cp, bool):
            with_cp = [with_cp] * self.num_stages
        if len(with_cp) != self.num_stages:
            raise ValueError(
                f'with_cp needs one flag per stage ({self.num_stages}), got {with_cp!r}'
            )
        self.with_cp = tuple(bool(f) for f in with_cp)
        self.out_channels: Optional[List[int]] = None  # set by the subclass
        self.out_norm_cfg: Optional[dict] = None
        self.out_norm_names: Dict[int, str] = {}

    #: what stock mmdet/mmseg configs set ``model.pretrained`` to: their own backbones' weights
    _STOCK_WEIGHTS = re.compile(r'(open-?mmlab|torchvision|modelzoo|mmcls)://')

    #: the keys of an mmengine ``Pretrained`` init that only it takes
    _PRETRAINED_KEYS = frozenset({'checkpoint', 'prefix', 'map_location'})

    @classmethod
    def normalise_init_cfg(cls, init_cfg):
        """``init_cfg`` as the configs write it, in one of the forms ``__init__`` checks.

        The backbone bases set ``init_cfg=dict()`` (a dict, so that ``--cfg-options
        model.backbone.init_cfg.checkpoint=X`` merges into it in any leaf, as in mmdet's
        configs): an empty dict or list is the paper's initialisation (None), and a dict of
        ``checkpoint`` (with ``prefix`` / ``map_location``) but no ``type`` is a ``Pretrained``
        init, the only initializer those keys belong to. Any other dict without ``type`` is an
        error naming what it holds.
        """
        if isinstance(init_cfg, (dict, list)) and not init_cfg:
            return None
        if isinstance(init_cfg, dict) and 'type' not in init_cfg:
            if 'checkpoint' in init_cfg and set(init_cfg) <= cls._PRETRAINED_KEYS:
                return dict(init_cfg, type='Pretrained')
            raise ValueError(
                f'{cls.__name__}: init_cfg {dict(init_cfg)!r} has no type; to load a checkpoint '
                f"give init_cfg=dict(type='Pretrained', checkpoint=...), for the paper's "
                f'initialisation leave it empty (dict() or None)'
            )
        return init_cfg

    @classmethod
    def pretrained_init_cfg(cls, pretrained: Optional[str], init_cfg):
        """``init_cfg`` with ``pretrained`` (see the class docstring) folded into it."""
        if pretrained is None:
            return init_cfg
        if not isinstance(pretrained, str) or not pretrained:
            raise TypeError(
                f'{cls.__name__}: pretrained must be a checkpoint path or URL, got {pretrained!r}'
            )
        if cls._STOCK_WEIGHTS.match(pretrained):
            raise ValueError(
                f"{cls.__name__}: pretrained={pretrained!r} names the weights of the config's "
                f'stock backbone (mmseg and mmdet recipes set model.pretrained for their '
                f'ResNet); they cannot initialise {cls.__name__}. Set pretrained=None in the '
                f"model dict (--cfg-options model.pretrained=None) and give {cls.__name__}'s "
                f'own weights with model.backbone.init_cfg=dict(type=\'Pretrained\', '
                f'checkpoint=...), or leave it out to train from scratch'
            )
        if init_cfg is not None:
            raise ValueError(
                f'{cls.__name__}: pretrained={pretrained!r} and init_cfg='
                f'{init_cfg!r} are both set; give the checkpoint in one of them'
            )
        return dict(type='Pretrained', checkpoint=pretrained)

    def finish_construction(self):
        """The construction steps after ``__init__`` (called once, by the metaclass): output
        norms for the returned stages, the paper's initialisation, freezing."""
        if self.out_channels is None or len(self.out_channels) != self.num_stages:
            raise TypeError(
                f'{type(self).__name__}.__init__ must set self.out_channels (one '
                f'width per stage, {self.num_stages} stages)'
            )
        self._add_out_norms()
        self.reset_parameters()
        self._freeze_stages()

    # ---- arch ---------------------------------------------------------------------------
    @classmethod
    def named_arch(cls, name: str) -> dict:
        """A copy of the settings of the architecture called ``name`` (any case, aliases too)."""
        key = cls.arch_aliases.get(name.lower(), name.lower())
        if key not in cls.arch_settings:
            names = sorted(set(cls.arch_settings) | set(cls.arch_aliases))
            raise ValueError(
                f'unknown {cls.__name__} arch {name!r}; choose from {names} or pass a dict'
            )
        return copy.deepcopy(cls.arch_settings[key])

    @classmethod
    def parse_arch(cls, arch: Union[str, dict]) -> dict:
        """Validate ``arch`` (a name from :attr:`arch_settings` or a dict of per-stage lists)
        and return the full settings dict (optional entries filled with their defaults)."""
        if isinstance(arch, str):
            arch = cls.named_arch(arch)
        elif not isinstance(arch, dict):
            raise TypeError(f'arch must be a str or a dict, got {type(arch).__name__}')
        arch = copy.deepcopy(dict(arch))
        missing = [k for k in cls.arch_keys if k not in arch]
        if missing:
            raise ValueError(f'{cls.__name__} arch dict lacks {missing}; it needs {cls.arch_keys}')
        unknown = set(arch) - set(cls.arch_keys) - set(cls.arch_defaults)
        if unknown:
            raise ValueError(
                f'{cls.__name__} arch dict has unknown keys {sorted(unknown)}; '
                f'allowed: {cls.arch_keys + tuple(cls.arch_defaults)}'
            )
        for key, default in cls.arch_defaults.items():
            arch.setdefault(key, list(default))
        for key, values in arch.items():
            if not isinstance(values, (list, tuple)) or len(values) != cls.num_stages:
                raise ValueError(f'arch[{key!r}] needs {cls.num_stages} values, got {values!r}')
        for i, (depth, dim) in enumerate(zip(arch['depths'], arch['dims'])):
            if not (isinstance(depth, int) and depth >= 1 and isinstance(dim, int) and dim >= 1):
                raise ValueError(
                    f'stage {i}: depth and width must be positive ints, got '
                    f'depth {depth!r}, width {dim!r}'
                )
        cls.check_arch(arch)
        return arch

    @classmethod
    def check_arch(cls, arch: dict):
        """Model-specific checks of a filled-in arch dict (raise ValueError)."""

    def _parse_out_indices(self, out_indices) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        n = self.num_stages
        if len(out_indices) == 0:
            raise ValueError(
                f'out_indices is empty: name at least one stage of 0..{n - 1} '
                'whose feature map the backbone should return'
            )
        parsed = []
        for i in out_indices:
            if not isinstance(i, int) or not -n <= i < n:
                raise ValueError(
                    f'out_indices must be stage numbers in [{-n}, {n - 1}], '
                    f'got {tuple(out_indices)}'
                )
            parsed.append(i % n)
        if len(set(parsed)) != len(parsed) or parsed != sorted(parsed):
            raise ValueError(f'out_indices must be increasing and unique, got {tuple(out_indices)}')
        return tuple(parsed)

    # ---- output norms -------------------------------------------------------------------
    def out_norm_name(self, stage: int) -> str:
        """Attribute (and state-dict) name of the output norm of ``stage``."""
        return f'norm{stage}'

    def _add_out_norms(self):
        """One norm per returned stage (none when ``out_norm_cfg`` is None)."""
        if self.out_norm_cfg is None:
            return
        for stage in self.out_indices:
            name = self.out_norm_name(stage)
            self.add_module(name, build_norm_layer(self.out_norm_cfg, self.out_channels[stage])[1])
            self.out_norm_names[stage] = name

    # ---- forward ------------------------------------------------------------------------
    def forward(self, x: torch.Tensor):
        """The maps of the stages in ``out_indices`` (NCHW), through their output norms: a
        tuple (a list in a TorchScript model)."""
        outs = self.forward_stages(x, list(self.out_indices))
        if torch.jit.is_scripting():
            return outs
        return tuple(outs)

    def forward_stages(self, x: torch.Tensor, indices: List[int]) -> List[torch.Tensor]:
        """The maps of the stages ``indices`` (increasing), NCHW, each through its output
        norm; stages after the last of them are not run. The one stage loop of every backbone:
        the family supplies :meth:`forward_stem` and :meth:`forward_stage`."""
        self.check_input(x)
        x = self.forward_stem(x)
        outs: List[torch.Tensor] = []
        for i in range(self.num_stages):
            if i > indices[-1]:
                break  # later stages feed no output
            x = self.forward_stage(i, x)
            if i in indices:
                out = self.out_norm(i, x)
                outs.append(out.permute(0, 3, 1, 2) if self.channels_last else out)
        return outs

    def out_norm(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        """``x`` through the output norm of ``stage`` (unchanged if it has none)."""
        if torch.jit.is_scripting():
            return x  # a model with output norms is not scripted (__prepare_scriptable__)
        name = self.out_norm_names.get(stage)
        return getattr(self, name)(x) if name else x

    def __prepare_scriptable__(self):
        """Called by ``torch.jit.script``: a backbone with output norms cannot be scripted
        (each is found by a name computed at run time, which TorchScript cannot compile; the
        state-dict names are the official ones). The timm classifiers have none."""
        if self.out_norm_names:
            raise RuntimeError(
                f'{type(self).__name__} with output norms ({sorted(self.out_norm_names)}) '
                f'cannot be compiled by torch.jit.script: build it with out_norm_cfg=None, or '
                f'record it at a fixed input size with torch.jit.trace (docs/deployment.md)'
            )
        return self

    # ---- what a subclass provides -------------------------------------------------------
    @abstractmethod
    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        """The layers before stage 0 (the stem) applied to the checked input."""

    @abstractmethod
    def forward_stage(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        """Stage ``stage`` (its downsampling, blocks and stage-level extras) applied to the map
        of the stage before (of the stem for stage 0). Find the stage's modules by iterating
        their module lists, not by ``list[stage]``: TorchScript indexes module lists by
        literals only."""

    @abstractmethod
    def stem_parts(self) -> List[Part]:
        """Modules/parameters before stage 0 (frozen by ``frozen_stages >= 0``)."""

    @abstractmethod
    def stage_parts(self, stage: int) -> List[Part]:
        """Modules/parameters of ``stage``: its downsampling, blocks, stage-level parameters
        (its output norm is added automatically)."""

    @abstractmethod
    def reset_parameters(self):
        """The paper's initialisation (used when there is no pretrained checkpoint)."""

    def set_grad_checkpointing(self, enable: bool = True):
        """Gradient checkpointing in every stage (``with_cp=True``) or none."""
        self.with_cp = (bool(enable),) * self.num_stages
        for m in self.modules():
            if isinstance(m, StageBlocks):
                m.grad_checkpointing = bool(enable)

    def check_input(self, x: torch.Tensor):
        """Raise a ValueError for a tensor the network cannot take (not while torch.fx traces
        symbolically: a traced shape has no value to check; a TorchScript model checks the
        shape only)."""
        if torch.jit.is_scripting():
            if x.dim() != 4 or x.shape[1] != self.in_channels:
                raise ValueError(
                    f'the backbone expects a (N, {self.in_channels}, H, W) '
                    f'tensor, got shape {x.shape}'
                )
            return
        if is_fx_tracing():
            return
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(
                f'{type(self).__name__} expects a (N, {self.in_channels}, H, W) '
                f'tensor, got shape {tuple(x.shape)}'
            )
        if x.shape[0] == 0:
            raise ValueError(
                f'{type(self).__name__} got a batch of 0 images (shape '
                f'{tuple(x.shape)}): pass at least one image'
            )
        # (a loop, not next(iterator, default), which torch.compile's dynamo cannot trace)
        weight = None
        for weight in self.parameters():
            break
        if weight is not None and x.dtype != weight.dtype and not _autocast_enabled(x.device.type):
            raise TypeError(
                f'{type(self).__name__} got a {x.dtype} input, but its weights are '
                f'{weight.dtype}: convert the input (x.to({weight.dtype})) or the '
                f'model (model.to({x.dtype})), or run under torch.autocast'
            )
        self.check_model_input(x)

    def check_model_input(self, x: torch.Tensor):
        """Checks of one family (raise for an input it cannot take), after the common ones of
        :meth:`check_input` (not in TorchScript or while torch.fx traces)."""

    def convert_checkpoint(self, state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Map an official checkpoint's state dict to this class's names (identity here)."""
        return state_dict

    # ---- freezing and norm_eval ---------------------------------------------------------
    def _frozen_parts(self) -> Iterable[Part]:
        if self.frozen_stages >= 0:
            yield from self.stem_parts()
        for stage in range(self.frozen_stages):
            yield from self.stage_parts(stage)
            if stage in self.out_norm_names:
                yield getattr(self, self.out_norm_names[stage])

    def _freeze_stages(self):
        for part in self._frozen_parts():
            if isinstance(part, nn.Parameter):
                part.requires_grad = False
            else:
                part.eval()
                for param in part.parameters():
                    param.requires_grad = False

    def train(self, mode: bool = True):
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    # ---- initialisation and official checkpoints ----------------------------------------
    def init_weights(self):
        cfg = self.init_cfg
        if isinstance(cfg, dict) and cfg.get('type') == 'Pretrained':
            self.load_pretrained(cfg['checkpoint'], prefix=cfg.get('prefix'))
        else:
            self.reset_parameters()
            if cfg is not None:  # any other mmengine initializer applies on top
                super().init_weights()
        self._is_init = True
        self._freeze_stages()

    def _is_out_norm_key(self, key: str) -> bool:
        return key.split('.', 1)[0] in self.out_norm_names.values()

    def load_pretrained(self, checkpoint: str, prefix: str = None):
        """Load an official checkpoint file strictly (see the module docstring)."""
        if '://' not in checkpoint and not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'{type(self).__name__}: pretrained checkpoint {checkpoint!r} not found. Save '
                f'the official file there (nothing is downloaded), or train from scratch with '
                f'--cfg-options model.backbone.init_cfg=None'
            )
        state_dict = extract_state_dict(load_checkpoint_file(checkpoint))
        if prefix:
            state_dict = strip_prefix(state_dict, prefix)
        self.load_pretrained_state_dict(state_dict, source=checkpoint)

    def load_pretrained_state_dict(self, state_dict: Dict[str, torch.Tensor], source: str):
        """Convert an official state dict (prefix already stripped) and load it strictly."""
        state_dict = self.convert_checkpoint(state_dict)
        missing, unexpected = load_state_dict_checked(
            self,
            state_dict,
            allow_missing=self._is_out_norm_key,
            allow_unexpected=keys_with_prefixes(self.classifier_prefixes),
            source=f'checkpoint {source!r}',
        )
        print_log(
            f'{type(self).__name__}: loaded {source} ({len(state_dict)} tensors); '
            f'newly initialised output norms: {len(missing)} tensors; '
            f'ignored classifier tensors: {len(unexpected)}',
            logger='current',
        )
