"""Whole-model deployment with mmdeploy (ONNX Runtime): the prediction comparison
(``mmtokenmix/deploy_check.py``) on made-up predictions, and (slow) toy RetinaNet +
TransXNet-T and SegFormer head + CDFFormer-S18 exported through ``tools/deployment/deploy.py``
and checked against PyTorch."""

import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.structures import InstanceData

from mmtokenmix.deploy_check import compare_detections, compare_label_maps


def instances(boxes, scores, labels):
    return InstanceData(
        bboxes=torch.tensor(boxes, dtype=torch.float32),
        scores=torch.tensor(scores),
        labels=torch.tensor(labels),
    )


REF = instances([[0, 0, 10, 10], [20, 20, 40, 50], [5, 5, 9, 9]], [0.9, 0.5, 0.06], [0, 1, 2])


def test_equal_detections_match_both_ways():
    got = instances([[20, 20, 40, 50.001], [0, 0, 10, 10]], [0.5000004, 0.9], [1, 0])
    result = compare_detections(REF, got, score_thr=0.3)  # the 0.06 box is below it
    assert result['ok'] and result['matched'] == 2 and result['missing'] == 0
    assert result['worst_iou'] > 0.999 and result['worst_score_diff'] < 1e-6


@pytest.mark.parametrize(
    'boxes,scores,labels',
    [
        ([[0, 0, 10, 10], [20, 20, 40, 45]], [0.9, 0.5], [0, 1]),  # a box moved
        ([[0, 0, 10, 10], [20, 20, 40, 50]], [0.9, 0.5], [0, 2]),  # another label
        ([[0, 0, 10, 10], [20, 20, 40, 50]], [0.9, 0.49], [0, 1]),  # another score
        ([[0, 0, 10, 10]], [0.9], [0]),  # a box lost
        ([[0, 0, 10, 10], [20, 20, 40, 50], [60, 60, 70, 70]], [0.9, 0.5, 0.8], [0, 1, 0]),
    ],
)
def test_a_different_detection_is_reported(boxes, scores, labels):
    result = compare_detections(REF, instances(boxes, scores, labels), score_thr=0.3)
    assert not result['ok'] and result['missing'] >= 1


def test_a_box_at_the_threshold_on_one_side_only_is_borderline_not_missing():
    got = instances([[0, 0, 10, 10], [20, 20, 40, 50]], [0.9, 0.5], [0, 1])
    result = compare_detections(REF, got, score_thr=0.0595)  # REF's 0.06 box sits at it
    assert result['ok'] and result['borderline'] == 1 and result['missing'] == 0


def test_label_maps_agree_up_to_a_few_pixels():
    ref = torch.zeros(1, 100, 100, dtype=torch.long)
    got = ref.clone()
    got[0, 0, :5] = 1
    result = compare_label_maps(ref, got)
    assert result['ok'] and result['pixel_agreement'] == pytest.approx(0.9995)
    got[0, :5] = 1
    assert not compare_label_maps(ref, got)['ok']
    with pytest.raises(ValueError, match='different shapes'):
        compare_label_maps(ref, got[:, :50])


# (model config, deploy config, model override, deploy override): random weights, so the
# detector keeps every score (its untrained scores are ~0.01, below the 0.05 threshold)
DEPLOYMENTS = [
    (
        'retinanet_transxnet_t_toy',
        'detection_onnxruntime_static-128x128',
        'model = dict(test_cfg=dict(score_thr=0.0))',
        'codebase_config = dict(post_processing=dict(score_threshold=0.0))',
    ),
    ('segformer_cdfformer_s18_toy', 'segmentation_onnxruntime_static-128x128', '', ''),
]


@pytest.mark.slow
@pytest.mark.parametrize('config,deploy,model_extra,deploy_extra', DEPLOYMENTS, ids=lambda v: v)
def test_a_toy_model_deploys_to_onnxruntime_with_pytorchs_predictions(
    tmp_path, toy_workdir, repo_root, config, deploy, model_extra, deploy_extra
):
    """RetinaNet + TransXNet-T (IDConv's pooling as matrix products, mmdeploy's NMS): 100
    boxes per image against mmdet's in PyTorch; SegFormer head + CDFFormer-S18 (the FFT
    filter as DFT matrix products): the label maps."""
    model_cfg, deploy_cfg = tmp_path / 'model.py', tmp_path / 'deploy.py'
    model_cfg.write_text(
        f"_base_ = '{osp.join(repo_root, 'configs', config + '.py')}'\n{model_extra}\n"
    )
    base = osp.join(repo_root, 'configs', 'deploy', deploy + '.py')
    deploy_cfg.write_text(f"_base_ = '{base}'\n{deploy_extra}\n")
    page = tmp_path / 'page.md'
    page.write_text('# report\n\n<!-- deploy:start -->\n<!-- deploy:end -->\n')
    images = [str(toy_workdir / 'data/toy/images/val' / f'00000{i}.png') for i in range(2)]
    report = tmp_path / 'report.json'
    command = [
        sys.executable,
        osp.join(repo_root, 'tools/deployment/deploy.py'),
        str(deploy_cfg),
        str(model_cfg),
        'init',  # init_weights() after torch.manual_seed(0), saved in the work dir
        *images,
        '--work-dir',
        str(tmp_path / 'work'),
        '--repeats',
        '1',
        '--json',
        str(report),
        '--doc',
        str(page),
        'deploy',
    ]
    proc = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.load(open(report))
    assert osp.isfile(result['onnx_file']) and result['ok']
    for c in result['comparisons']:
        if 'pixel_agreement' in c:
            assert c['pixel_agreement'] >= 0.999
        else:
            assert c['boxes_pytorch'] == c['boxes_exported'] == c['matched'] == 100
            assert c['worst_iou'] > 0.999 and c['worst_score_diff'] < 1e-4
    assert osp.isfile(tmp_path / 'work' / 'init_weights.pth')
    written = page.read_text()
    assert 'Generated by `python ' in written and '--doc' in written
    assert '| 000000.png | yes |' in written and 'ONNX Runtime' in written


def test_onnxruntime_roialign_as_mmdeploy_exports_it_equals_mmcvs():
    """docs/deployment.md rules RoIAlign out as the cause of Mask R-CNN's differences: for
    mmcv's RoIAlign(aligned=True, sampling_ratio=0) mmdeploy exports ONNX ``RoiAlign`` in
    ``half_pixel`` mode (opset >= 16), which ONNX Runtime computes exactly as mmcv does."""
    import numpy as np
    import onnxruntime as ort
    from mmcv.ops import roi_align
    from onnx import TensorProto, helper

    torch.manual_seed(0)
    feat = torch.randn(1, 8, 32, 32)
    corner = torch.rand(50, 2) * 100
    boxes = torch.cat([corner, corner + torch.rand(50, 2) * 60 + 1], 1)
    for scale in (1 / 4, 1 / 8):
        ref = roi_align(
            feat, torch.cat([torch.zeros(50, 1), boxes], 1), (7, 7), scale, 0, 'avg', True
        )
        node = helper.make_node(
            'RoiAlign',
            ['x', 'rois', 'batch'],
            ['y'],
            output_height=7,
            output_width=7,
            spatial_scale=scale,
            sampling_ratio=0,
            mode='avg',
            coordinate_transformation_mode='half_pixel',
        )
        inputs = [
            helper.make_tensor_value_info('x', TensorProto.FLOAT, [1, 8, 32, 32]),
            helper.make_tensor_value_info('rois', TensorProto.FLOAT, [50, 4]),
            helper.make_tensor_value_info('batch', TensorProto.INT64, [50]),
        ]
        output = helper.make_tensor_value_info('y', TensorProto.FLOAT, None)
        graph = helper.make_graph([node], 'roi_align', inputs, [output])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 17)])
        session = ort.InferenceSession(
            model.SerializeToString(), providers=['CPUExecutionProvider']
        )
        (got,) = session.run(
            None,
            {'x': feat.numpy(), 'rois': boxes.numpy(), 'batch': np.zeros(50, dtype=np.int64)},
        )
        torch.testing.assert_close(torch.from_numpy(got), ref, rtol=0, atol=1e-6)
