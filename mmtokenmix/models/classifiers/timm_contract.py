"""What timm expects of a classifier (its model contract), written once for ours:
:class:`TimmClassifier` and timm's stage selection :func:`take_indices`."""

from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn


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
            dict(
                num_chs=self.out_channels[i],
                reduction=self.stage_reductions()[i],
                module=names[id(self.stage_parts(i)[0])],
            )
            for i in range(self.num_stages)
        ]
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
            raise ValueError(
                f"{type(self).__name__}: global_pool must be 'avg' or '' "
                f'(no pooling), got {global_pool!r}'
            )
        if global_pool == '' and num_classes > 0:
            raise ValueError(
                f"{type(self).__name__}: global_pool='' (no pooling) needs "
                'num_classes=0: the classifier works on pooled features'
            )
        self.global_pool = global_pool

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """Global average pooling to (B, C), or the map itself with ``global_pool=''``."""
        return x.mean(dim=(2, 3)) if self.global_pool != '' else x

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_stages(x, [self.num_stages - 1])[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def forward_intermediates(
        self,
        x: torch.Tensor,
        indices: Optional[Union[int, List[int]]] = None,
        norm: bool = False,
        stop_early: bool = False,
        output_fmt: str = 'NCHW',
        intermediates_only: bool = False,
    ) -> Union[List[torch.Tensor], Tuple[torch.Tensor, List[torch.Tensor]]]:
        """timm's intermediate-feature API: the maps of the stages ``indices`` selects (None:
        all, int n: the last n, list: those, negative from the end), NCHW. Unless
        ``intermediates_only``, also the final features (of the last stage, or with
        ``stop_early`` of the last stage taken). ``norm`` is accepted for timm's callers: the
        stage maps have no final norm of their own here (it belongs to the head)."""
        if output_fmt != 'NCHW':
            raise ValueError(
                f"{type(self).__name__}.forward_intermediates: output_fmt must be "
                f"'NCHW', got {output_fmt!r}"
            )
        take, max_index = take_indices(self.num_stages, indices)
        last = max_index if stop_early or intermediates_only else self.num_stages - 1
        run = sorted(set(take) | {last})
        maps = dict(zip(run, self.forward_stages(x, run)))
        intermediates = [maps[i] for i in take]
        return intermediates if intermediates_only else (maps[last], intermediates)

    def prune_intermediate_layers(
        self, indices: Union[int, List[int]] = 1, prune_norm: bool = False, prune_head: bool = True
    ):
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
        prefixes += [(self._part_names(self.stage_parts(i)), i + 1) for i in range(self.num_stages)]

        def group_of(name: str):
            for names, group in prefixes:
                for prefix in names:
                    if name == prefix or name.startswith(prefix + '.'):
                        block = name[len(prefix) + 1 :].split('.')[0]
                        if not coarse and group > 0 and block.isdigit():
                            return group, int(block)
                        return (group,)
            return (float('inf'),)

        return group_of

    def _part_names(self, parts) -> List[str]:
        names = {id(m): n for n, m in self.named_modules()}
        names.update({id(p): n for n, p in self.named_parameters()})
        return [names[id(part)] for part in parts if id(part) in names]


def take_indices(
    num_stages: int, indices: Optional[Union[int, Sequence[int]]]
) -> Tuple[List[int], int]:
    """timm's stage selection: None -> all stages, an int n -> the last n, a sequence -> those
    stages (negative from the end). Returns the absolute stage numbers and the largest."""
    if indices is None:
        indices = num_stages
    if isinstance(indices, int):
        if not 0 < indices <= num_stages:
            raise ValueError(f'take the last n stages: n must be in 1..{num_stages}, got {indices}')
        taken = list(range(num_stages - indices, num_stages))
    else:
        taken = []
        for i in indices:
            if not -num_stages <= i < num_stages:
                raise ValueError(f'stage {i} out of range for {num_stages} stages')
            taken.append(i % num_stages)
    return taken, max(taken)
