"""ImageNet classifiers built from the same modules as the dense backbones, registered in
timm's model registry (when timm imports) so that ``timm.create_model('transxnet_t')`` and
timm's own ``train.py`` / ``validate.py`` work after ``import mmtokenmix.models``.

No weights are downloaded: load official files with
``timm.create_model('transxnet_t', checkpoint_path='transx-t.pth.tar')``.
"""
import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer

from .backbones.transxnet import TransXNet

try:  # timm needs a working torchvision; any failure only disables the timm names
    from timm.models import register_model
except Exception:  # noqa: BLE001
    register_model = None

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class TransXNetClassifier(TransXNet):
    """TransXNet image classifier (Lou et al., TNNLS 2025): the backbone's last stage, then
    GroupNorm(1) -> global average pool -> 1x1 conv, with the official parameter names
    (``classifier.0`` norm, ``classifier.2`` conv). ``num_classes=0`` returns pooled features.

    Args:
        arch / image_size / in_channels / drop_rate / drop_path_rate / with_cp / norm_cfg /
        bn_cfg / act_cfg: as for :class:`TransXNet`.
        num_classes: classifier outputs.
    """

    def __init__(self, arch='t', num_classes: int = 1000, image_size: int = 224,
                 in_channels: int = 3, drop_rate: float = 0.0, drop_path_rate: float = 0.0,
                 with_cp: bool = False, norm_cfg: dict = dict(type='GN', num_groups=1),
                 bn_cfg: dict = dict(type='BN'), act_cfg: dict = dict(type='GELU')):
        super().__init__(arch, image_size=image_size, in_channels=in_channels, out_indices=(3,),
                         with_cp=with_cp, drop_rate=drop_rate, drop_path_rate=drop_path_rate,
                         norm_cfg=norm_cfg, bn_cfg=bn_cfg, act_cfg=act_cfg, out_norm_cfg=None)
        self.num_features = self.embed_dims[-1]
        self._head_norm_cfg = norm_cfg
        self.reset_classifier(num_classes)

    def reset_classifier(self, num_classes: int, global_pool=None):
        """Replace the classifier by a freshly initialised one with ``num_classes`` outputs."""
        self.num_classes = num_classes
        layers = [build_norm_layer(self._head_norm_cfg, self.num_features)[1],
                  nn.AdaptiveAvgPool2d(1)]
        if num_classes > 0:
            fc = nn.Conv2d(self.num_features, num_classes, 1)
            nn.init.trunc_normal_(fc.weight, std=0.02)
            nn.init.zeros_(fc.bias)
            layers.append(fc)
        self.classifier = nn.Sequential(*layers)

    def get_classifier(self) -> nn.Module:
        return self.classifier[-1]

    def set_grad_checkpointing(self, enable: bool = True):
        self.with_cp = (bool(enable),) * self.num_stages

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x)[-1]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        head = self.classifier[:2] if pre_logits else self.classifier
        return head(x).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))


def _timm_factory(arch: str, crop_pct: float):
    def create(pretrained: bool = False, **kwargs):
        if pretrained:
            raise RuntimeError(
                f'transxnet_{arch}: mmtokenmix never downloads weights; pass the official file '
                f"with timm.create_model('transxnet_{arch}', checkpoint_path='...')")
        for key in ('pretrained_cfg', 'pretrained_cfg_overlay', 'cache_dir'):
            kwargs.pop(key, None)
        model = TransXNetClassifier(arch, **kwargs)
        model.pretrained_cfg = model.default_cfg = dict(
            num_classes=model.num_classes, input_size=(3, 224, 224), pool_size=(7, 7),
            crop_pct=crop_pct, interpolation='bicubic', mean=IMAGENET_MEAN, std=IMAGENET_STD,
            first_conv='patch_embed.proj.conv', classifier='classifier.2')
        return model

    create.__name__ = f'transxnet_{arch}'
    create.__qualname__ = create.__name__
    create.__doc__ = f'TransXNet-{arch.upper()} ImageNet classifier (timm entry point).'
    return create


transxnet_t = _timm_factory('t', crop_pct=0.9)
transxnet_s = _timm_factory('s', crop_pct=0.9)
transxnet_b = _timm_factory('b', crop_pct=0.95)

if register_model is not None:
    for _fn in (transxnet_t, transxnet_s, transxnet_b):
        register_model(_fn)
