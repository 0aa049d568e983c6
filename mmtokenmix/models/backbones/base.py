"""Behaviour every mmtokenmix dense backbone shares, written once.

A backbone subclass builds its layers, calls :meth:`_add_out_norms`, and implements
:meth:`stem_parts` / :meth:`stage_parts` (what belongs to the stem and to each stage),
:meth:`forward_stage` (and :meth:`forward_stem` if it has a stem outside the stages) and
:meth:`reset_parameters` (the paper's initialisation). This class then provides:

* ``forward``: input check, stem, stages, a tuple of the returned stages' normed maps (stages
  after the last returned one are skipped);

* ``out_indices`` (stage numbers, negative allowed) and one output norm per returned stage;
* ``frozen_stages`` (-1: nothing, 0: the stem, k: the stem and stages 0..k-1) kept frozen and
  in eval mode across ``train()`` calls;
* ``norm_eval`` (BatchNorm layers stay in eval mode while training);
* ``with_cp`` (a bool or one bool per stage) for the subclass's stage loop;
* ``init_cfg``: ``None`` gives the paper's initialisation; ``dict(type='Pretrained',
  checkpoint=..., prefix=...)`` loads an official checkpoint with a strict key check (only the
  classifier may be unexpected and only the output norms missing; anything else raises
  :class:`~mmtokenmix.checkpoints.CheckpointMismatchError` listing the keys).
"""
import copy
import os.path as osp
from typing import Dict, Iterable, List, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmtokenmix.checkpoints import (extract_state_dict, load_checkpoint_file,
                                    load_state_dict_checked, strip_prefix)
from mmtokenmix.checkpoints.loading import keys_with_prefixes

Part = Union[nn.Module, nn.Parameter]


class DenseBackbone(BaseModule):
    """Base class of the dense (multi-scale) backbones; see the module docstring."""

    num_stages = 4
    #: prefixes of checkpoint keys that belong to a classification head (allowed to be unused)
    classifier_prefixes: Tuple[str, ...] = ('classifier.', 'head.')
    #: named architectures (``arch='name'``) and alternative names for them
    arch_settings: Dict[str, dict] = {}
    arch_aliases: Dict[str, str] = {}

    def __init__(self, out_indices: Sequence[int] = (0, 1, 2, 3), frozen_stages: int = -1,
                 norm_eval: bool = False, with_cp: Union[bool, Sequence[bool]] = False,
                 init_cfg: dict = None):
        super().__init__(init_cfg=init_cfg)
        self.out_indices = self._parse_out_indices(out_indices)
        if not isinstance(frozen_stages, int) or not -1 <= frozen_stages <= self.num_stages:
            raise ValueError(f'frozen_stages must be an int in [-1, {self.num_stages}], '
                             f'got {frozen_stages!r}')
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        if isinstance(with_cp, bool):
            with_cp = [with_cp] * self.num_stages
        if len(with_cp) != self.num_stages:
            raise ValueError(f'with_cp needs one flag per stage ({self.num_stages}), got '
                             f'{with_cp!r}')
        self.with_cp = tuple(bool(f) for f in with_cp)
        self.out_norm_names: Dict[int, str] = {}

    # ---- configuration helpers -------------------------------------------------------------
    @classmethod
    def named_arch(cls, name: str) -> dict:
        """A copy of the settings of the architecture called ``name`` (any case, aliases too)."""
        key = cls.arch_aliases.get(name.lower(), name.lower())
        if key not in cls.arch_settings:
            names = sorted(set(cls.arch_settings) | set(cls.arch_aliases))
            raise ValueError(f'unknown {cls.__name__} arch {name!r}; choose from {names} or '
                             f'pass a dict')
        return copy.deepcopy(cls.arch_settings[key])

    def _parse_out_indices(self, out_indices) -> Tuple[int, ...]:
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        n = self.num_stages
        if len(out_indices) == 0:
            raise ValueError(f'out_indices is empty: name at least one stage of 0..{n - 1} '
                             'whose feature map the backbone should return')
        parsed = []
        for i in out_indices:
            if not isinstance(i, int) or not -n <= i < n:
                raise ValueError(f'out_indices must be stage numbers in [{-n}, {n - 1}], '
                                 f'got {tuple(out_indices)}')
            parsed.append(i % n)
        if len(set(parsed)) != len(parsed) or parsed != sorted(parsed):
            raise ValueError(f'out_indices must be increasing and unique, got '
                             f'{tuple(out_indices)}')
        return tuple(parsed)

    def out_norm_name(self, stage: int) -> str:
        """Attribute (and state-dict) name of the output norm of ``stage``."""
        return f'norm{stage}'

    def _add_out_norms(self, channels: Sequence[int], norm_cfg: dict = None):
        """One norm per returned stage (none when ``norm_cfg`` is None)."""
        if norm_cfg is None:
            return
        for stage in self.out_indices:
            name = self.out_norm_name(stage)
            self.add_module(name, build_norm_layer(norm_cfg, channels[stage])[1])
            self.out_norm_names[stage] = name

    def out_norm(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        name = self.out_norm_names.get(stage)
        return getattr(self, name)(x) if name else x

    # ---- what a subclass provides ----------------------------------------------------------
    def stem_parts(self) -> List[Part]:
        raise NotImplementedError

    def stage_parts(self, stage: int) -> List[Part]:
        """Modules/parameters of ``stage``: its downsampling, blocks, stage-level parameters
        (the output norm is added here automatically)."""
        raise NotImplementedError

    def reset_parameters(self):
        """The paper's initialisation (used when there is no pretrained checkpoint)."""
        raise NotImplementedError

    def forward_stage(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        """Run ``stage`` (its downsampling and blocks) on the previous stage's map."""
        raise NotImplementedError

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        """Layers before stage 0 that :meth:`forward_stage` does not run (none by default)."""
        return x

    def stage_output(self, stage: int, x: torch.Tensor) -> torch.Tensor:
        """The returned NCHW map of ``stage`` (its output norm applied)."""
        return self.out_norm(stage, x)

    def run_blocks(self, stage: int, blocks: Iterable[nn.Module], x: torch.Tensor, *args
                   ) -> torch.Tensor:
        """Apply ``blocks`` in turn (each one gradient-checkpointed if ``with_cp[stage]``)."""
        use_cp = self.with_cp[stage] and x.requires_grad
        for block in blocks:
            x = cp.checkpoint(block, x, *args, use_reentrant=False) if use_cp else block(x, *args)
        return x

    def check_input(self, x: torch.Tensor):
        """Raise a ValueError for a tensor the network cannot take."""
        if x.dim() != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f'{type(self).__name__} expects a (N, {self.in_channels}, H, W) '
                             f'tensor, got shape {tuple(x.shape)}')
        if x.shape[0] == 0:
            raise ValueError(f'{type(self).__name__} got a batch of 0 images (shape '
                             f'{tuple(x.shape)}): pass at least one image')

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        self.check_input(x)
        x = self.forward_stem(x)
        outs = []
        for stage in range(self.num_stages):
            x = self.forward_stage(stage, x)
            if stage in self.out_indices:
                outs.append(self.stage_output(stage, x))
            if stage == self.out_indices[-1]:
                break  # later stages would not contribute to any output
        return tuple(outs)

    def convert_checkpoint(self, state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Map an official checkpoint's state dict to this class's names (identity here)."""
        return state_dict

    # ---- freezing and norm_eval ------------------------------------------------------------
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

    # ---- initialisation and official checkpoints -------------------------------------------
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
                f'--cfg-options model.backbone.init_cfg=None')
        state_dict = extract_state_dict(load_checkpoint_file(checkpoint))
        if prefix:
            state_dict = strip_prefix(state_dict, prefix)
        self.load_pretrained_state_dict(state_dict, source=checkpoint)

    def load_pretrained_state_dict(self, state_dict: Dict[str, torch.Tensor], source: str):
        """Convert an official state dict (prefix already stripped) and load it strictly."""
        state_dict = self.convert_checkpoint(state_dict)
        missing, unexpected = load_state_dict_checked(
            self, state_dict, allow_missing=self._is_out_norm_key,
            allow_unexpected=keys_with_prefixes(self.classifier_prefixes),
            source=f'checkpoint {source!r}')
        print_log(f'{type(self).__name__}: loaded {source} ({len(state_dict)} tensors); '
                  f'newly initialised output norms: {len(missing)} tensors; '
                  f'ignored classifier tensors: {len(unexpected)}', logger='current')
