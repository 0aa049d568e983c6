"""Importing this package registers every mmtokenmix model in the ``mmtokenmix`` scope (and,
when timm imports, the classification models in timm's registry). It never imports mmdet or
mmseg."""
from .backbones import *  # noqa: F401,F403
from .classifiers import TransXNetClassifier  # noqa: F401
