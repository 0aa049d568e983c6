"""The plugin's child registries of mmengine's root ``MODELS``, ``HOOKS``,
``OPTIM_WRAPPERS``, ``TRANSFORMS`` and ``VISUALIZERS``.

Their scope is ``mmtokenmix``, so configs of mmdet *and* mmseg can say
``type='mmtokenmix.TransXNet'`` or ``type='mmtokenmix.CrashSafeCheckpointHook'``: mmengine
resolves a scoped name through the root registry to these children, importing the
``locations`` on the way. Never make ``mmtokenmix`` the default scope: mmdet/mmseg classes
would then not be found.
Internal blocks are plain Python classes, not built through a registry by name.
"""

from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry

MODELS = Registry(
    'model', parent=MMENGINE_MODELS, scope='mmtokenmix', locations=['mmtokenmix.models']
)
HOOKS = Registry('hook', parent=MMENGINE_HOOKS, scope='mmtokenmix', locations=['mmtokenmix.engine'])
OPTIM_WRAPPERS = Registry(
    'optim_wrapper',
    parent=MMENGINE_OPTIM_WRAPPERS,
    scope='mmtokenmix',
    locations=['mmtokenmix.engine'],
)
TRANSFORMS = Registry(
    'transform', parent=MMENGINE_TRANSFORMS, scope='mmtokenmix', locations=['mmtokenmix.datasets']
)
VISUALIZERS = Registry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    scope='mmtokenmix',
    locations=['mmtokenmix.visualization'],
)
