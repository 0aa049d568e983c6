"""The plugin's child registry of mmengine's root ``MODELS``.

Its scope is ``mmtokenmix``, so configs of mmdet *and* mmseg can say
``type='mmtokenmix.TransXNet'``: mmengine resolves a scoped name through the root
registry to this child, importing ``mmtokenmix.models`` on the way (``locations``).
Never make ``mmtokenmix`` the default scope: mmdet/mmseg classes would then not be found.
Internal blocks are plain Python classes, not built through this registry by name.
"""
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMENGINE_MODELS, scope='mmtokenmix',
                  locations=['mmtokenmix.models'])
