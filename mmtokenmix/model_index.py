"""The model index (OpenMMLab convention): ``model-index.yml`` at the repository root (shipped
as ``mmtokenmix/.mim/model-index.yml``) imports
one ``configs/<family>/metafile.yml`` per model family, in OpenMMLab's schema (what ``mim``
and the ``modelindex`` parser read). Each collection has ``Name``, ``Metadata`` (``Status``:
official/reconstruction, ``Official Weights``, ``Official Code``), ``Paper`` (``Title``,
``URL``), ``Code`` (``URL`` of our implementation, ``Version`` of this package) and
``README``. Each model entry has

* ``Name``, ``In Collection`` (the family), ``Config`` (a config path; for an ImageNet
  classifier, which ``Metadata.timm`` names, its mmpretrain config
  ``configs/classifier_<name>_in1k.py``);
* ``Metadata``: ``Task``, ``Training Data``, ``Backbone``, ``Input Size`` (``'HxW'``, e.g.
  ``'800x1280'``: the size the papers count FLOPs at; a string, as mim's search expects),
  ``Parameters`` (what our code builds; asserted by the tests) and, where nothing is
  published, a ``Note`` saying why;
* ``Results``: for the configs of official models, the published numbers (``Task``,
  ``Dataset``, ``Metrics``, ``Source``, ``Verified``: False for recalled, third-party or
  derived numbers, and the paper's ``Parameters (M)``, ``FLOPs (G)``, ``FLOPs Counter``, a
  ``Note`` on differences to ours); for the toy configs, our own runs (``Source: 'ours: ...'``,
  ``Dataset: toy (synthetic)``). :func:`published` and :func:`measured` tell them apart;
* ``Weights`` (a file that loads as it is) and ``Converted From`` (``Weights``, ``Code``: the
  official file and repository behind an entry).
"""

import os.path as osp
from typing import Dict, List, Tuple

import yaml


def _default_model_index() -> str:
    """The index the package carries (``mmtokenmix/.mim/``, where mim looks; links into the
    checkout for an editable install), else the one at the root of a source checkout."""
    package_dir = osp.dirname(osp.abspath(__file__))
    shipped = osp.join(package_dir, '.mim', 'model-index.yml')
    return shipped if osp.isfile(shipped) else osp.join(osp.dirname(package_dir), 'model-index.yml')


MODEL_INDEX = _default_model_index()


def load_model_index(path: str = MODEL_INDEX) -> List[Dict]:
    """All model entries of the index, each with its collection dict under ``'Collection'``,
    in metafile order. Raises ValueError for an entry that names an unknown collection."""
    root = osp.dirname(osp.abspath(path))
    with open(path) as f:
        index = yaml.safe_load(f)
    entries = []
    for metafile in index['Import']:
        with open(osp.join(root, metafile)) as f:
            data = yaml.safe_load(f)
        collections = {c['Name']: c for c in data.get('Collections', [])}
        for model in data.get('Models', []):
            if model.get('In Collection') not in collections:
                raise ValueError(
                    f'{metafile}: model {model.get("Name")!r} is in unknown '
                    f'collection {model.get("In Collection")!r}'
                )
            entries.append(
                dict(model, Collection=collections[model['In Collection']], Metafile=metafile)
            )
    return entries


def is_timm_classifier(entry: Dict) -> bool:
    """Whether the entry is an ImageNet classifier (built as ``timm.create_model``, its
    ``Config`` the mmpretrain config of the same model) rather than a dense config."""
    return 'timm' in entry['Metadata']


def input_size(entry: Dict) -> Tuple[int, int]:
    """``(h, w)`` of an entry's ``Metadata.Input Size`` (``'800x1280'``)."""
    text = str(entry['Metadata']['Input Size'])
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise ValueError(f'{entry.get("Name")}: Input Size must be "HxW", got {text!r}') from None
    return h, w


def is_measured_by_us(result: Dict) -> bool:
    """Whether a ``Results`` item is one of our runs (its ``Source`` starts with ``ours``)."""
    return str(result.get('Source', '')).startswith('ours')


def measured(entry: Dict) -> List[Dict]:
    """Our runs among an entry's ``Results``."""
    return [r for r in entry.get('Results') or [] if is_measured_by_us(r)]


def published(entry: Dict) -> Dict:
    """An entry's published numbers in one dict: ``Results`` (metric -> value), ``Source``,
    ``Verified`` and, where given, ``Parameters (M)``, ``FLOPs (G)``, ``FLOPs Counter`` and
    ``Note``. Where nothing is published: ``{'Note': Metadata.Note}`` or ``{}``."""
    for result in entry.get('Results') or []:
        if not is_measured_by_us(result):
            numbers = {k: v for k, v in result.items() if k not in ('Task', 'Dataset', 'Metrics')}
            numbers['Results'] = result['Metrics']
            return numbers
    note = entry['Metadata'].get('Note')
    return {'Note': note} if note else {}
