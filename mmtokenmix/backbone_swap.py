"""Putting one of our backbones into a stock mmdet/mmseg config.

A stock recipe feeds its backbone's maps to a consumer (the neck, or without one the decode
and auxiliary heads) whose ``in_channels`` (and DeepLabV3+'s ``c1_in_channels``) list the
stock backbone's widths. Swapping the backbone changes exactly these:

* ``model.backbone``: ours, with ``out_indices`` chosen so that each returned map has the
  stride of the stock map it replaces (measured by running both backbones once on a 128x128
  input, so every recipe -- FPN with ``start_level``, YOLOv3's deepest-first neck, DETR's
  channel mapper, UperNet's auxiliary head -- is handled by the same rule);
* the consumer's ``in_channels`` / ``c1_in_channels``: every stock width replaced by the width
  of our map at the same stride (list order kept, so a deepest-first list stays so);
* mmseg's ``model.pretrained`` (the stock backbone's weights, which mmseg passes to the
  backbone): ``None``.

Where the stock backbone is dilated (DeepLabV3+/PSPNet ``-d8``: strides 4, 8, 8, 8) our maps
are matched by position and a note says that the heads then see stride-32 maps; a recipe that
needs more maps than our backbone has is an error. :func:`swap_config_text` writes the short
leaf config that inherits the stock one (``tools/misc/swap_backbone.py`` prints it).
"""

import copy
import importlib.util
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Sequence, Tuple

import torch

#: keys of a consumer of backbone maps that hold backbone widths
WIDTH_KEYS = ('in_channels', 'c1_in_channels')
PROBE_SIZE = 128


@dataclass
class SwapPlan:
    """What changes when ``backbone`` replaces a stock config's backbone (see module doc)."""

    stock_type: str
    stock_maps: List[Tuple[int, int]]  # (width, stride) of each stock output, in order
    our_maps: List[Tuple[int, int]]  # (width, stride) of every stage of ours
    out_indices: Tuple[int, ...]
    changes: List[Tuple[str, object, object]] = field(default_factory=list)  # key, old, new
    notes: List[str] = field(default_factory=list)

    @property
    def widths(self) -> List[int]:
        return [self.our_maps[i][0] for i in self.out_indices]


def stock_config_path(name: str) -> str:
    """The file of ``name``: a path, or ``mmdet::retinanet/x.py`` / ``mmseg::...`` (the
    configs inside the installed package, as ``_base_`` resolves them)."""
    if '::' not in name:
        return name
    package, relative = name.split('::', 1)
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(f'{name!r}: package {package!r} is not installed')
    path = osp.join(spec.submodule_search_locations[0], '.mim', 'configs', relative)
    if not osp.isfile(path):
        raise ValueError(f'{name!r}: {path} does not exist')
    return path


def map_geometry(backbone: torch.nn.Module, size: int = PROBE_SIZE) -> List[Tuple[int, int]]:
    """(width, stride) of each map ``backbone`` returns for a ``size`` x ``size`` input."""
    was_training = backbone.training
    backbone.eval()
    with torch.no_grad():
        maps = backbone(torch.zeros(1, 3, size, size))
    backbone.train(was_training)
    if torch.is_tensor(maps):
        maps = [maps]
    return [(int(m.shape[1]), size // int(m.shape[-1])) for m in maps]


def _build(backbone_cfg: dict, scope: str) -> torch.nn.Module:
    from mmengine.registry import MODELS, init_default_scope

    init_default_scope(scope)
    cfg = {
        k: v
        for k, v in copy.deepcopy(dict(backbone_cfg)).items()
        if k not in ('init_cfg', 'pretrained', '_delete_')
    }
    return MODELS.build(cfg)


def _consumers(model_cfg) -> List[Tuple[str, dict]]:
    """The config dicts that take the backbone's maps, with their key paths."""
    if model_cfg.get('neck') is not None:
        neck = model_cfg['neck']
        return (
            [('model.neck[0]', neck[0])]
            if isinstance(neck, (list, tuple))
            else [('model.neck', neck)]
        )
    found = []
    for key in ('decode_head', 'auxiliary_head'):
        head = model_cfg.get(key)
        if isinstance(head, (list, tuple)):
            found += [(f'model.{key}[{i}]', h) for i, h in enumerate(head)]
        elif head is not None:
            found.append((f'model.{key}', head))
    if not found:
        raise ValueError(
            'the config has no neck, decode_head or auxiliary_head taking the '
            'backbone maps: mmtokenmix cannot tell which widths to change'
        )
    return found


def plan_backbone_swap(cfg, backbone: dict) -> SwapPlan:
    """Work out (without changing ``cfg``) how ``backbone`` (a config dict of ours, e.g.
    ``dict(type='mmtokenmix.DFFormer', arch='s18')``) replaces ``cfg.model.backbone``."""
    from mmtokenmix.config_utils import detect_default_scope
    from mmtokenmix.registry import MODELS as OUR_MODELS

    scope = detect_default_scope(cfg)
    stock_cfg = cfg.model.backbone
    stock_maps = map_geometry(_build(stock_cfg, scope))
    num_stages = OUR_MODELS.get(backbone['type']).num_stages
    our_maps = map_geometry(_build(dict(backbone, out_indices=tuple(range(num_stages))), scope))
    plan = SwapPlan(str(stock_cfg.get('type')), stock_maps, our_maps, ())

    if len(stock_maps) > len(our_maps):
        raise ValueError(
            f'{cfg.filename or "the config"}: its {plan.stock_type} gives {len(stock_maps)} maps '
            f'(strides {[s for _, s in stock_maps]}) and {backbone.get("type")} has only '
            f'{len(our_maps)} stages; this recipe cannot take it'
        )
    our_stage_by_stride = {s: i for i, (_, s) in enumerate(our_maps)}
    stock_strides = [s for _, s in stock_maps]
    if all(s in our_stage_by_stride for s in stock_strides) and len(set(stock_strides)) == len(
        stock_strides
    ):
        plan.out_indices = tuple(our_stage_by_stride[s] for s in stock_strides)
    else:
        plan.out_indices = tuple(range(len(our_maps) - len(stock_maps), len(our_maps)))
        plan.notes.append(
            f'{plan.stock_type} here is dilated (output strides {stock_strides}); '
            f'{backbone.get("type")} downsamples every stage (strides '
            f'{[our_maps[i][1] for i in plan.out_indices]} for out_indices '
            f'{plan.out_indices}): the recipe runs, with its heads on coarser maps'
        )

    widths = {}
    for (stock_width, _), i in zip(stock_maps, plan.out_indices):
        if widths.get(stock_width, our_maps[i][0]) != our_maps[i][0]:
            raise ValueError(
                f'{plan.stock_type} returns two maps {stock_width} wide: '
                'which consumer width is which cannot be told apart'
            )
        widths[stock_width] = our_maps[i][0]
    for path, consumer in _consumers(cfg.model):
        for key in WIDTH_KEYS:
            old = consumer.get(key)
            if old is None:
                continue
            values = list(old) if isinstance(old, (list, tuple)) else [old]
            unknown = [v for v in values if v not in widths]
            if unknown:
                raise ValueError(
                    f'{path}.{key}={old!r} holds widths {unknown} that '
                    f'{plan.stock_type} does not return ({sorted(widths)})'
                )
            new = [widths[v] for v in values]
            plan.changes.append(
                (f'{path}.{key}', old, new if isinstance(old, (list, tuple)) else new[0])
            )
    if cfg.model.get('pretrained') is not None:
        plan.changes.append(('model.pretrained', cfg.model.pretrained, None))
    return plan


def _set(cfg, path: str, value):
    node, parts = cfg, path.replace('[', '.').replace(']', '').split('.')
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    node[parts[-1]] = value


def swap_backbone(cfg, backbone: dict) -> SwapPlan:
    """Replace ``cfg.model.backbone`` by ``backbone`` and adapt the widths (in place)."""
    plan = plan_backbone_swap(cfg, backbone)
    for path, _, new in plan.changes:
        _set(cfg, path, new)
    cfg.model.backbone = dict(backbone, out_indices=plan.out_indices)
    return plan


def _render(value) -> str:
    if isinstance(value, dict):
        return 'dict(' + ', '.join(f'{k}={_render(v)}' for k, v in value.items()) + ')'
    return repr(value)


def swap_config_text(stock: str, backbone: dict, plan: SwapPlan) -> str:
    """A leaf config that inherits ``stock`` and swaps its backbone as ``plan`` says."""
    args = ', '.join(f'{k}={v!r}' for k, v in backbone.items() if k != 'type')
    lines = [
        f"_base_ = {stock!r}",
        "custom_imports = dict(imports=['mmtokenmix.models'], allow_failed_imports=False)",
        'model = dict(',
        f"    backbone=dict(_delete_=True, type={backbone['type']!r}"
        + (f', {args}' if args else '')
        + f', out_indices={plan.out_indices!r}),',
    ]
    overrides, in_lists = {}, []
    for path, _, new in plan.changes:
        if '[' in path:  # an entry of a list of heads/necks: no dict override reaches it
            in_lists.append(f'# and set {path} = {new!r} (in the list, as given there)')
            continue
        node, parts = overrides, path.split('.')[1:]
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = new
    lines += [f'    {key}={_render(value)},' for key, value in overrides.items()]
    lines.append(')')
    return '\n'.join(lines + in_lists) + '\n'


def backbone_widths_table(entries: Sequence[Tuple[str, str]]) -> List[Dict]:
    """Rows (type, arch, stage widths, strides) for ``entries`` of (registered type, arch)."""
    from mmtokenmix.registry import MODELS

    rows = []
    for type_name, arch in entries:
        cls = MODELS.get(type_name)
        model = cls(arch=arch, out_indices=tuple(range(cls.num_stages)))
        geometry = map_geometry(model)
        rows.append(
            dict(
                type=type_name,
                arch=arch,
                widths=[w for w, _ in geometry],
                strides=[s for _, s in geometry],
            )
        )
    return rows
