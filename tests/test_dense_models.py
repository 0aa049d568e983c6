"""Every config's model (detection and segmentation) builds, trains and predicts on CPU, and the
full models match the official ones in parameters, optimiser rules and neck wiring."""

import glob
import os.path as osp
import re

import pytest
import torch
from conftest import det_batch, seg_batch
from mmengine import Config

from mmtokenmix.analysis import build_model_from_config, count_parameters
from mmtokenmix.config_utils import detect_default_scope, optim_wrapper_for_device
from mmtokenmix.model_index import load_model_index

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIG_NAMES = sorted(
    osp.splitext(osp.basename(p))[0] for p in glob.glob(osp.join(REPO, 'configs', '*.py'))
)


# whole-model parameter counts of the official TransXNet dense models (computed from the
# upstream mmdet 2.28 / mmseg 0.30 model definitions), in millions
OFFICIAL_PARAMS_M = {
    'retinanet_transxnet_{}_coco': dict(t=22.44, s=36.60, b=58.01),
    'maskrcnn_transxnet_{}_coco': dict(t=32.50, s=46.52, b=67.56),
    'sfpn_transxnet_{}_ade20k': dict(t=16.60, s=30.62, b=51.66),
}
INDEX = {e['Config']: e for e in load_model_index() if e['Config']}


def load(name):
    return Config.fromfile(osp.join(REPO, 'configs', name + '.py'))


def cls_batch(num_classes, size, batch=2, seed=0):
    """Two uint8 images with their class labels, as mmpretrain's PackInputs gives them."""
    from mmpretrain.structures import DataSample

    gen = torch.Generator().manual_seed(seed)
    inputs = [
        torch.randint(0, 256, (3, *size), generator=gen, dtype=torch.uint8) for _ in range(batch)
    ]
    samples = [DataSample().set_gt_label(i % num_classes) for i in range(batch)]
    return dict(inputs=inputs, data_samples=samples)


def _finite_total(losses):
    return all(torch.isfinite(v).all() for v in losses.values() if torch.is_tensor(v))


@pytest.mark.parametrize('name', CONFIG_NAMES)
def test_config_builds_with_the_indexed_size_trains_one_iteration_and_predicts(name):
    """Each config's model is built once, here: its parameter count is the model index's (and
    the official model's where one exists), then one optimiser step with the config's own
    optimiser (param-wise rules included) on two small synthetic images, then inference.
    Segmentation crops/windows are shrunk to the input size: the step is the same code path
    at any size. Classifiers train on their Mixup/CutMix batches where the recipe has them."""
    from mmengine.logging import MessageHub
    from mmengine.optim import build_optim_wrapper

    cfg = load(name)
    entry = INDEX[f'configs/{name}.py']
    scope = detect_default_scope(cfg)
    if scope == 'mmseg':
        cfg.model.data_preprocessor.size = (96, 128)
        if cfg.model.test_cfg.get('mode') == 'slide':
            cfg.model.test_cfg.update(crop_size=(64, 64), stride=(48, 48))
    if cfg.model.backbone.get('drop_path_rate'):
        # stochastic depth can skip the last block for both images, and then its parameters
        # get no gradient; the check below is that gradients can reach them
        cfg.model.backbone.drop_path_rate = 0.0
    model = build_model_from_config(cfg)
    params = count_parameters(model)
    assert params == entry['Metadata']['Parameters']
    official = OFFICIAL_PARAMS_M.get(re.sub('_transxnet_[tsb]_', '_transxnet_{}_', name), {})
    if official:
        assert round(params / 1e6, 2) == official[name.split('_')[2]]
    model.init_weights()
    MessageHub.get_instance('test').update_info('iter', 0)
    if scope == 'mmdet':
        packed = det_batch(with_mask='roi_head' in cfg.model)
    elif scope == 'mmpretrain':
        packed = cls_batch(cfg.model.head.num_classes, size=(64, 64))
    else:
        packed = seg_batch(cfg.model.decode_head.num_classes, [(96, 128), (80, 112)])
    optim_wrapper = build_optim_wrapper(model, optim_wrapper_for_device(cfg.optim_wrapper))
    # the stem and the deepest backbone parameter: gradients reach through every stage
    backbone_params = list(model.backbone.parameters())
    first, last = backbone_params[0], backbone_params[-1]
    before = [first.detach().clone(), last.detach().clone()]
    model.train()
    losses = model(**model.data_preprocessor(packed, True), mode='loss')
    loss, log_vars = model.parse_losses(losses)
    assert torch.isfinite(loss) and _finite_total(log_vars), log_vars
    optim_wrapper.update_params(loss)
    assert not torch.equal(before[0], first) and not torch.equal(before[1], last)

    model.eval()
    if scope == 'mmseg':  # the test pipelines give whole images of one size per batch
        packed = seg_batch(cfg.model.decode_head.num_classes, [(96, 128), (96, 128)])
    with torch.no_grad():
        results = model(**model.data_preprocessor(packed, False), mode='predict')
    assert len(results) == 2
    if scope == 'mmdet':
        assert results[0].pred_instances.bboxes.shape[1] == 4
        if 'roi_head' in cfg.model:
            assert 'masks' in results[0].pred_instances
    elif scope == 'mmpretrain':
        assert results[0].pred_score.shape == (cfg.model.head.num_classes,)
        assert torch.allclose(results[0].pred_score.sum(), torch.tensor(1.0))
    else:
        pred = results[0].pred_sem_seg.data
        assert pred.shape == (1, 96, 128)
        assert int(pred.max()) < cfg.model.decode_head.num_classes


def _groups_by_param(model, optim_wrapper):
    by_id = {}
    for group in optim_wrapper.optimizer.param_groups:
        for p in group['params']:
            by_id[id(p)] = group
    return {name: by_id[id(p)] for name, p in model.named_parameters()}


def test_maskrcnn_exempts_exactly_the_norm_named_parameters_from_decay():
    from mmengine.optim import build_optim_wrapper

    cfg = load('maskrcnn_transxnet_t_coco')
    model = build_model_from_config(cfg)
    groups = _groups_by_param(model, build_optim_wrapper(model, cfg.optim_wrapper))
    for name, group in groups.items():
        assert (group['weight_decay'] == 0) == ('norm' in name), name
        assert group['lr'] == 1e-4
    decayed = {n for n, g in groups.items() if g['weight_decay'] == 0.05}
    assert {
        'backbone.relative_pos_enc.0',
        'backbone.network.0.0.layer_scale_1.weight',
        'backbone.patch_embed.proj.bn.weight',
        'backbone.network.0.0.mlp.fc1.2.weight',
        'backbone.network.0.0.pos_embed.bias',
    } <= decayed
    assert groups['backbone.norm0.weight']['weight_decay'] == 0
    assert groups['backbone.network.4.2.mlp.norm.weight']['weight_decay'] == 0
    assert groups['backbone.network.6.0.norm2.weight']['weight_decay'] == 0


@pytest.mark.parametrize('name', ['segformer_transxnet_t_ade20k', 'segformer_transxnet_t_toy'])
def test_segformer_decoder_gets_ten_times_the_lr_and_the_backbone_none(name):
    from mmengine.optim import build_optim_wrapper

    cfg = load(name)
    model = build_model_from_config(cfg)
    groups = _groups_by_param(model, build_optim_wrapper(model, cfg.optim_wrapper))
    base_lr, wd = cfg.optim_wrapper.optimizer.lr, cfg.optim_wrapper.optimizer.weight_decay
    for param_name, group in groups.items():
        in_decoder = param_name.startswith('decode_head.')
        assert group['lr'] == pytest.approx(base_lr * (10 if in_decoder else 1)), param_name
        assert group['weight_decay'] == (0 if 'norm' in param_name else wd), param_name


@pytest.mark.parametrize(
    'name', ['yolov3_transxnet_t_coco', 'yolov3-320_transxnet_t_coco', 'yolov3_transxnet_t_toy']
)
def test_yolov3_neck_takes_the_three_backbone_maps_deepest_first(name):
    cfg = load(name)
    model = build_model_from_config(cfg).eval()
    with torch.no_grad():
        feats = model.backbone(torch.randn(2, 3, 320, 256))
        assert [f.shape[1:] for f in feats] == [
            (c, 320 // s, 256 // s) for c, s in zip(model.backbone.out_channels[1:], (8, 16, 32))
        ]
        assert cfg.model.neck.in_channels == [f.shape[1] for f in feats][::-1]
        outs = model.neck(feats)
    assert [o.shape[1] for o in outs] == cfg.model.neck.out_channels
    assert [o.shape[2] for o in outs] == [10, 20, 40]  # strides 32, 16, 8: the head's order
    assert cfg.model.bbox_head.featmap_strides == [32, 16, 8]


def test_hook_style_counter_reproduces_the_official_mmcv1_flops():
    """The TransXNet paper counted Semantic FPN-T at 512x512 with mmcv 1.x's counter: 30.5 G
    ; the hook-style counter applies the same rules."""
    from mmtokenmix.analysis import model_complexity

    r = model_complexity(load('sfpn_transxnet_t_ade20k'), (512, 512))
    assert round(r['hook_flops'] / 1e9, 1) == 30.5
    assert r['flops'] > r['hook_flops']  # mmengine also counts the attention products


def test_xformer_yolov3_at_320_is_the_papers_budget():
    """XFormer + lightweight YOLOv3 at 320x320: the paper reports 6.3M params and 3.8G FLOPs;
    within 3 % with the counter of that time (mmcv 1.x rules); mmengine's also counts XFA's
    matrix products."""
    from mmtokenmix.analysis import model_complexity

    r = model_complexity(load('yolov3-320_xformer_coco'), (320, 320))
    assert r['params'] == 6_300_049
    assert abs(r['hook_flops'] / 3.8e9 - 1) < 0.03  # 3.87 G
    assert 3.9e9 < r['flops'] < 4.0e9  # 3.94 G
