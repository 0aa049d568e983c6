"""Official ImageNet files and our timm classifiers -> mmpretrain ``ImageClassifier``
checkpoints with our backbones and heads (``configs/classifier_*_in1k.py``).

The timm classifiers (``mmtokenmix.models.classifiers``) are the dense backbone class plus the
paper's head, with the official parameter names, so an official ImageNet file loads into them
strictly. The mmpretrain classifier holds the same backbone under ``backbone.`` and the head
(``mmtokenmix.NormPoolLinearClsHead`` / ``MetaFormerClsHead``) under ``head.``; only the head's
keys are renamed (and TransXNet's 1x1 conv weight becomes the linear weight it equals).
"""

from collections import OrderedDict
from typing import Dict, List, Tuple

import torch

from mmtokenmix.checkpoints.loading import extract_state_dict, load_state_dict_checked

# classifier class -> (timm classifier key prefix, mmpretrain key prefix) of the head's tensors;
# every other key is the backbone's
HEAD_KEYS: Dict[str, List[Tuple[str, str]]] = {
    'TransXNetClassifier': [('classifier.0.', 'head.norm.'), ('classifier.2.', 'head.fc.')],
    'MetaFormerClassifier': [('norm.', 'head.norm.'), ('head.', 'head.mlp.')],
    'DMFormerClassifier': [('norm.', 'head.norm.'), ('head.', 'head.fc.')],
    'XFormerClassifier': [('head.', 'head.')],
}


def head_keys(classifier: torch.nn.Module) -> List[Tuple[str, str]]:
    for cls in type(classifier).__mro__:
        if cls.__name__ in HEAD_KEYS:
            return HEAD_KEYS[cls.__name__]
    raise TypeError(
        f'{type(classifier).__name__} is not one of our timm classifiers ({sorted(HEAD_KEYS)})'
    )


def classifier_to_mmpretrain(classifier: torch.nn.Module) -> 'OrderedDict[str, torch.Tensor]':
    """The state dict of the mmpretrain classifier equal to ``classifier`` (one of our timm
    classifiers, e.g. ``timm.create_model('transxnet_t')``)."""
    renames = head_keys(classifier)
    out = OrderedDict()
    for key, value in classifier.state_dict().items():
        for old, new in renames:
            if key.startswith(old):
                key = new + key[len(old) :]
                if key.endswith('fc.weight') and value.dim() == 4:  # 1x1 conv == linear
                    value = value.flatten(1)
                break
        else:
            key = 'backbone.' + key
        out[key] = value
    return out


def official_to_mmpretrain(checkpoint: dict, model_name: str, source: str = 'checkpoint'):
    """Load an official ImageNet checkpoint strictly into the timm classifier ``model_name``
    (e.g. ``'transxnet_t'``, ``'dfformer_s18'``) and return the equal mmpretrain state dict; a
    mismatch raises :class:`~mmtokenmix.checkpoints.CheckpointMismatchError` listing the keys."""
    import timm

    import mmtokenmix.models  # noqa: F401  (registers the timm names)

    classifier = timm.create_model(model_name, pretrained=False)
    load_state_dict_checked(classifier, extract_state_dict(checkpoint), source=source)
    return classifier_to_mmpretrain(classifier)


def mmpretrain_conversion(checkpoint: dict, model_name, source: str = 'checkpoint'):
    """What ``tools/model_converters/*2mmtokenmix.py --mmpretrain`` writes for an official
    ImageNet ``checkpoint``: (state dict, info, one-line summary, config to evaluate it with).
    ``model_name(state_dict)`` names the timm classifier the file is for (its detection)."""
    state_dict = extract_state_dict(checkpoint)
    if any(k.startswith('backbone.') for k in state_dict):
        raise ValueError(
            f'{source} is a detector/segmentor or backbone checkpoint (its keys start with '
            "'backbone.'); --mmpretrain converts the released ImageNet classifier files"
        )
    name = model_name(state_dict)
    converted = official_to_mmpretrain(state_dict, name, source=source)
    info = dict(model=name, whole_model=False, format='mmpretrain ImageClassifier')
    config = f'configs/classifier_{name}_in1k.py'
    return converted, info, f'{name} ImageNet classifier for mmpretrain ({config})', config
