"""The model index (OpenMMLab convention): ``model-index.yml`` at the repository root (shipped
as ``mmtokenmix/.mim/model-index.yml``) imports
one ``configs/<family>/metafile.yml`` per model family. Each model entry has

* ``Name``, ``In Collection`` (the family), ``Config`` (a config path; None for an ImageNet
  classifier, which ``Metadata.timm`` names instead);
* ``Metadata``: ``Task``, ``Training Data``, ``Backbone``, ``Input Size`` (``'HxW'``, e.g.
  ``'800x1280'``: the size the papers count FLOPs at; a string, as mim's search expects) and ``Parameters`` (what our code builds; asserted by the tests);
* ``Paper`` (optional): the paper's ``Parameters (M)``, ``FLOPs (G)`` with its ``FLOPs
  Counter``, ``Results`` (metric -> value), ``Verified`` (False: recalled, third-party or
  derived), ``Source`` and a ``Note`` explaining any difference to ours;
* ``Results``: our finished runs (``Task``, ``Dataset``, ``Metrics``, ``Source``), ``Weights``.
"""
import os.path as osp
from typing import Dict, List, Tuple

import yaml


def _default_model_index() -> str:
    """The index the package carries (``mmtokenmix/.mim/``, where mim looks; links into the
    checkout for an editable install), else the one at the root of a source checkout."""
    package_dir = osp.dirname(osp.abspath(__file__))
    shipped = osp.join(package_dir, '.mim', 'model-index.yml')
    return shipped if osp.isfile(shipped) else osp.join(osp.dirname(package_dir),
                                                        'model-index.yml')


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
                raise ValueError(f'{metafile}: model {model.get("Name")!r} is in unknown '
                                 f'collection {model.get("In Collection")!r}')
            entries.append(dict(model, Collection=collections[model['In Collection']],
                                Metafile=metafile))
    return entries


def input_size(entry: Dict) -> Tuple[int, int]:
    """``(h, w)`` of an entry's ``Metadata.Input Size`` (``'800x1280'``)."""
    text = str(entry['Metadata']['Input Size'])
    try:
        h, w = (int(v) for v in text.lower().split('x'))
    except ValueError:
        raise ValueError(f'{entry.get("Name")}: Input Size must be "HxW", got {text!r}') \
            from None
    return h, w
