"""Building a config's whole detector/segmentor for measuring it, and the data samples a
``mode='tensor'`` forward of it needs."""

import torch


def build_model_from_config(cfg, pretrained: bool = False) -> torch.nn.Module:
    """Build ``cfg.model`` in the config's toolbox scope, without loading weights unless
    ``pretrained``; SyncBN becomes BN (as a single-process Runner does)."""
    from mmengine.model import revert_sync_batchnorm
    from mmengine.registry import MODELS, init_default_scope

    from mmtokenmix.config_utils import detect_default_scope

    init_default_scope(detect_default_scope(cfg))
    model_cfg = cfg.model.copy()
    if cfg.get('data_preprocessor') is not None:  # as mmengine's Runner (mmpretrain's configs)
        model_cfg.setdefault('data_preprocessor', cfg.data_preprocessor)
    if not pretrained and model_cfg.get('backbone', {}).get('init_cfg') is not None:
        model_cfg.backbone = dict(model_cfg.backbone, init_cfg=None)
    return revert_sync_batchnorm(MODELS.build(model_cfg))


def dummy_data_samples(scope: str, h: int, w: int, batch: int = 1):
    """Data samples with the meta information a ``mode='tensor'`` forward needs."""
    meta = dict(
        img_shape=(h, w),
        ori_shape=(h, w),
        pad_shape=(h, w),
        batch_input_shape=(h, w),
        scale_factor=(1.0, 1.0),
    )
    if scope == 'mmdet':
        from mmdet.structures import DetDataSample as Sample
    elif scope == 'mmpretrain':
        from mmpretrain.structures import DataSample as Sample
    else:
        from mmseg.structures import SegDataSample as Sample
    return [Sample(metainfo=meta) for _ in range(batch)]
