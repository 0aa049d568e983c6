"""ONNX export (tools/deployment/pytorch2onnx.py, mmtokenmix/deployment.py) checked against
onnxruntime for every family, and the DFT-matrix form of DFFormer's filter that makes its
export possible (ONNX has no FFT operator)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import load_tool

from mmtokenmix.models import CDFFormer, DFFormer
from mmtokenmix.models.mixers.dynamic_filter import (
    DynamicFilter,
    global_filter_with_dft_matrices,
    use_dft_matrices,
)

onnxruntime = pytest.importorskip('onnxruntime')
pytorch2onnx = load_tool('tools/deployment/pytorch2onnx.py')


@pytest.mark.parametrize('height,width', [(8, 8), (7, 9), (14, 14), (5, 12), (1, 6)])
def test_dft_matrices_compute_the_fft_filter(height, width):
    g = torch.Generator().manual_seed(height * 31 + width)
    y = torch.randn(2, height, width, 6, generator=g)
    filters = torch.randn(2, height, width // 2 + 1, 6, 2, generator=g)
    spectrum = torch.fft.rfft2(y, dim=(1, 2), norm='ortho') * torch.view_as_complex(filters)
    want = torch.fft.irfft2(spectrum, s=(height, width), dim=(1, 2), norm='ortho')
    got = global_filter_with_dft_matrices(y, filters)
    torch.testing.assert_close(got, want, rtol=0, atol=1e-5)


@pytest.mark.parametrize('cls', [DFFormer, CDFFormer])
def test_use_dft_matrices_keeps_the_outputs_and_switches_back(cls):
    torch.manual_seed(0)
    model = cls('s18', nominal_size=64).eval()
    x = torch.randn(1, 3, 70, 94)
    with torch.no_grad():
        want = model(x)
        with use_dft_matrices(model):
            assert {m.spectral_impl for m in model.modules() if isinstance(m, DynamicFilter)} == {
                'dft_matrices'
            }
            got = model(x)
    assert {m.spectral_impl for m in model.modules() if isinstance(m, DynamicFilter)} == {'fft'}
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, rtol=0, atol=2e-5 * w.abs().max().item())


def _run_in_onnxruntime(path, x):
    session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
    return session.run(None, {'input': x.numpy()})


# (MODEL argument, input size): backbones of configs (all their returned maps) and classifiers
CASES = [
    ('configs/retinanet_transxnet_t_coco.py', (224, 224)),
    # stage maps 16x24 ... 2x3: no multiple of IDConv's 7 x 7 pooling, stage 4 smaller than it
    ('configs/retinanet_transxnet_t_coco.py', (64, 96)),
    ('configs/retinanet_dfformer_s18_coco.py', (65, 97)),
    ('cdfformer_s18', (64, 64)),
    ('configs/retinanet_dmformer_s_coco.py', (64, 96)),
    ('xformer', (64, 64)),
]


@pytest.mark.parametrize(
    'model_arg,size', CASES, ids=[f'{c[0].split("/")[-1]}-{c[1][0]}x{c[1][1]}' for c in CASES]
)
def test_exported_file_matches_pytorch_in_onnxruntime(
    model_arg, size, tmp_path, capsys, repo_root, monkeypatch
):
    monkeypatch.chdir(repo_root)
    out = str(tmp_path / 'model.onnx')
    torch.manual_seed(0)
    pytorch2onnx.main([model_arg, '--shape', *map(str, size), '--out', out])
    printed = capsys.readouterr().out
    assert 'exported' in printed and 'onnxruntime vs PyTorch: max abs difference' in printed
    # the file on a new input, against a fresh build of the same weights
    torch.manual_seed(0)
    model = pytorch2onnx.build(model_arg).eval()
    x = torch.randn(1, 3, *size, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        want = model(x)
    want = list(want) if isinstance(want, (tuple, list)) else [want]
    got = _run_in_onnxruntime(out, x)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == tuple(w.shape)
        np.testing.assert_allclose(g, w.numpy(), rtol=0, atol=2e-5 * w.abs().max().item())


def test_exporting_with_a_checkpoint_loads_it_strictly(tmp_path, repo_root, monkeypatch):
    monkeypatch.chdir(repo_root)
    model = pytorch2onnx.build('dmformer_s')
    state = {k: v + 0.01 if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save({'state_dict': state}, tmp_path / 'w.pth')
    loaded = pytorch2onnx.build('dmformer_s', str(tmp_path / 'w.pth'))
    assert all(torch.equal(loaded.state_dict()[k], v) for k, v in state.items())
    state.pop('head.weight')
    torch.save(state, tmp_path / 'bad.pth')
    with pytest.raises(Exception, match='head.weight'):
        pytorch2onnx.build('dmformer_s', str(tmp_path / 'bad.pth'))


@pytest.mark.parametrize('n', [2, 3, 4, 6, 7, 9, 13, 25, 38, 50])
def test_adaptive_pooling_as_matrix_products_equals_pytorchs(n):
    """IDConv's export path: every PyTorch window (maps smaller than, equal to and larger
    than 7, multiples or not) averaged by the matrices."""
    from mmtokenmix.models.layers.pooling import adaptive_avg_pool2d_as_matmul

    x = torch.randn(2, 3, n, n + 3, dtype=torch.float64)
    got = adaptive_avg_pool2d_as_matmul(x, 7)
    torch.testing.assert_close(got, F.adaptive_avg_pool2d(x, 7), rtol=0, atol=1e-12)
