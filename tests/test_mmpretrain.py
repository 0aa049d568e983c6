"""ImageNet pretraining through mmpretrain: our backbones and the papers' heads inside its
``ImageClassifier``, the ImageNet configs (each equal to our timm classifier, with the recipe
facts of its family) and official ImageNet files converted for them. The toy pretraining and
fine-tuning through mmpretrain's stock tools is in test_stock_tools.py."""

import glob
import os.path as osp

import pytest
import timm
import torch
from conftest import REPO, load_tool
from mmengine.config import Config

import mmtokenmix.models  # noqa: F401  (the timm names)
from mmtokenmix.analysis import build_model_from_config
from mmtokenmix.checkpoints import CheckpointMismatchError
from mmtokenmix.converters.mmpretrain import classifier_to_mmpretrain

CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'classifier_*_in1k.py')))


def timm_name(path: str) -> str:
    return osp.basename(path)[len('classifier_') : -len('_in1k.py')]


def trained_looking(model: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """``model`` with every parameter and BatchNorm statistic moved off its init, so every
    branch (layer scales start small) changes the output."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if t.is_floating_point():
                noise = torch.randn(t.shape, generator=gen, dtype=t.dtype) * 0.05
                t.copy_((t + noise).abs() if name.endswith('running_var') else t + noise)
    return model.eval()


def test_there_is_an_imagenet_config_for_every_timm_classifier():
    from mmtokenmix.models.classifiers import TIMM_MODEL_NAMES

    assert sorted(map(timm_name, CONFIGS)) == sorted(TIMM_MODEL_NAMES)


@pytest.mark.parametrize('path', CONFIGS, ids=timm_name)
def test_each_imagenet_config_is_our_timm_classifier_under_mmpretrain(path):
    """Same parameters (the converted timm state dict loads with strict keys) and the same
    logits for the same weights."""
    name = timm_name(path)
    model = build_model_from_config(Config.fromfile(path)).eval()
    torch.manual_seed(0)
    reference = trained_looking(timm.create_model(name))
    model.load_state_dict(classifier_to_mmpretrain(reference), strict=True)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        logits, expected = model(x, mode='tensor'), reference(x)
    assert logits.shape == (2, 1000)
    torch.testing.assert_close(logits, expected, rtol=1e-4, atol=1e-4)


# the recipe of each family (docs/pretraining.md): lr for batch 1024, warm-up epochs, epochs
# scheduled, drop path, EMA momentum (None: no EMA), test resize of the short side, Mixup/CutMix
RECIPES = {
    'transxnet_t': (2e-3, 5, 310, 0.1, 2e-4, 248, True),
    'transxnet_s': (2e-3, 5, 310, 0.2, 1.5e-4, 248, True),
    'transxnet_b': (2e-3, 5, 310, 0.4, 1.5e-4, 236, True),
    'dfformer_s18': (1e-3, 20, 310, 0.2, None, 224, True),
    'dfformer_s36': (1e-3, 20, 310, 0.3, None, 224, True),
    'dfformer_m36': (1e-3, 20, 310, 0.4, None, 224, True),
    'dfformer_b36': (1e-3, 20, 310, 0.6, None, 224, True),
    'cdfformer_s18': (1e-3, 20, 310, 0.2, None, 224, True),
    'cdfformer_s36': (1e-3, 20, 310, 0.3, None, 224, True),
    'cdfformer_m36': (1e-3, 20, 310, 0.4, None, 224, True),
    'cdfformer_b36': (1e-3, 20, 310, 0.6, None, 224, True),
    'dmformer_s': (1e-3, 5, 310, 0.1, None, 248, True),
    'dmformer_m': (1e-3, 5, 310, 0.2, None, 248, True),
    'dmformer_b': (1e-3, 5, 310, 0.3, None, 236, True),
    'xformer': (2e-3, None, 300, 0.0, 5e-4, 288, False),
}


@pytest.mark.parametrize('path', CONFIGS, ids=timm_name)
def test_each_imagenet_config_follows_its_family_recipe(path):
    lr, warmup, epochs, drop_path, ema, resize, batch_mix = RECIPES[timm_name(path)]
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain' and cfg.model.type == 'ImageClassifier'
    assert cfg.optim_wrapper.optimizer.type == 'AdamW' and cfg.optim_wrapper.optimizer.lr == lr
    assert cfg.auto_scale_lr.base_batch_size == 1024 == 8 * cfg.train_dataloader.batch_size
    assert cfg.train_cfg.max_epochs == epochs
    schedulers = {s.type: s for s in cfg.param_scheduler}
    if warmup is not None:
        assert schedulers['LinearLR'].end == warmup == schedulers['CosineAnnealingLR'].begin
        assert schedulers['CosineAnnealingLR'].end == 300
    assert cfg.model.backbone.get('drop_path_rate', 0.0) == drop_path
    hooks = {h.type: h for h in cfg.get('custom_hooks', [])}
    assert (hooks['EMAHook'].momentum if 'EMAHook' in hooks else None) == pytest.approx(ema)
    resizes = [t for t in cfg.val_dataloader.dataset.pipeline if t.type == 'ResizeEdge']
    assert resizes[0].scale == resize and cfg.test_dataloader == cfg.val_dataloader
    assert cfg.model.head.loss.type == 'LabelSmoothLoss'
    assert cfg.model.head.loss.label_smooth_val == 0.1
    augments = (cfg.model.get('train_cfg') or {}).get('augments', [])
    assert [a.type for a in augments] == (['Mixup', 'CutMix'] if batch_mix else [])


@pytest.mark.parametrize(
    'tool,name,wrap',
    [
        ('transxnet2mmtokenmix.py', 'transxnet_t', lambda sd: dict(state_dict=sd, epoch=300)),
        ('dfformer2mmtokenmix.py', 'dfformer_s18', lambda sd: sd),
    ],
)
def test_an_official_imagenet_file_converts_for_the_mmpretrain_classifier(
    tmp_path, tool, name, wrap
):
    """The official ImageNet files (the timm classifiers' parameter names, in the official
    containers) -> the mmpretrain classifier of configs/classifier_<name>_in1k.py: checked
    against its model and giving the timm classifier's logits."""
    torch.manual_seed(1)
    reference = trained_looking(timm.create_model(name), seed=1)
    src, dst = tmp_path / 'official.pth', tmp_path / 'mmpretrain.pth'
    torch.save(wrap(reference.state_dict()), src)
    config = osp.join(REPO, 'configs', f'classifier_{name}_in1k.py')
    converter = load_tool(f'tools/model_converters/{tool}')
    converter.converter_main(
        converter.__doc__,
        converter.convert,
        [str(src), str(dst), '--mmpretrain', '--config', config],
        getattr(converter, 'add_arguments', None),
    )
    saved = torch.load(dst, weights_only=True)
    model = build_model_from_config(Config.fromfile(config)).eval()
    model.load_state_dict(saved['state_dict'], strict=True)
    x = torch.randn(1, 3, 96, 96)
    with torch.no_grad():
        torch.testing.assert_close(model(x, mode='tensor'), reference(x), rtol=1e-4, atol=1e-4)
    assert saved['meta']['model'] == name

    # a file of another model: the strict check names the keys, nothing is written
    other = timm.create_model('transxnet_s' if name == 'transxnet_t' else 'dfformer_s36')
    torch.save(wrap(other.state_dict()), src)
    with pytest.raises(CheckpointMismatchError, match='missing keys|unexpected keys|shape'):
        converter.converter_main(
            converter.__doc__,
            converter.convert,
            [str(src), str(tmp_path / 'not_written.pth'), '--mmpretrain', '--config', config],
            getattr(converter, 'add_arguments', None),
        )
    assert not (tmp_path / 'not_written.pth').exists()


def test_a_dense_checkpoint_is_refused_by_the_mmpretrain_conversion(tmp_path):
    from mmtokenmix.converters.mmpretrain import mmpretrain_conversion

    with pytest.raises(ValueError, match='--mmpretrain converts the released ImageNet'):
        mmpretrain_conversion({'backbone.patch_embed.proj.conv.weight': torch.zeros(1)}, str)


def test_the_heads_take_the_last_map_and_explain_a_neck(tmp_path):
    from mmtokenmix.models.classifiers.mmpretrain_heads import MetaFormerClsHead

    head = MetaFormerClsHead(num_classes=5, in_channels=8)
    assert head((torch.randn(2, 8, 3, 3),)).shape == (2, 5)
    with pytest.raises(ValueError, match='without a neck'):
        head((torch.randn(2, 8),))
