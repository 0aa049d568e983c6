"""``--amp`` on a CPU: bfloat16 autocast through ``mmtokenmix.CPUAutocastOptimWrapper``
(mmengine's ``AmpOptimWrapper`` asserts that CUDA is there)."""

import pytest
import torch
import torch.nn as nn
from conftest import load_tool
from mmengine.config import Config
from mmengine.registry import OPTIM_WRAPPERS

import mmtokenmix.engine  # noqa: F401  (registers the wrapper)


class _Recorder(nn.Module):
    """A linear layer that records the dtype its output was computed in."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 4)
        self.seen = []

    def forward(self, x):
        y = self.fc(x)
        self.seen.append(y.dtype)
        return y


def _wrapper(model, **kwargs):
    return OPTIM_WRAPPERS.build(
        dict(
            type='mmtokenmix.CPUAutocastOptimWrapper',
            optimizer=torch.optim.SGD(model.parameters(), lr=0.1),
            **kwargs,
        )
    )


def test_forward_runs_in_bfloat16_and_the_update_stays_float32():
    torch.manual_seed(0)
    model = _Recorder()
    before = model.fc.weight.detach().clone()
    wrapper = _wrapper(model)
    with wrapper.optim_context(model):
        loss = model(torch.randn(3, 8)).float().pow(2).mean()
    wrapper.update_params(loss)
    assert model.seen == [torch.bfloat16]
    assert model.fc.weight.dtype == torch.float32
    assert not torch.equal(model.fc.weight, before)
    # outside the context the model computes in float32 again
    model(torch.randn(3, 8))
    assert model.seen[-1] == torch.float32


def test_unknown_dtype_is_refused():
    with pytest.raises(ValueError, match="dtype must be one of .*'float64'"):
        _wrapper(_Recorder(), dtype='float64')


def test_train_tool_amp_picks_the_cpu_wrapper_without_cuda(monkeypatch):
    train = load_tool('tools/train.py')
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: False)
    cfg = Config(
        dict(
            optim_wrapper=dict(
                type='AmpOptimWrapper', loss_scale=512.0, optimizer=dict(type='SGD', lr=0.1)
            )
        )
    )
    train.use_amp(cfg)
    assert cfg.optim_wrapper.type == 'mmtokenmix.CPUAutocastOptimWrapper'
    assert cfg.optim_wrapper.dtype == 'bfloat16' and 'loss_scale' not in cfg.optim_wrapper
    cfg = Config(
        dict(
            optim_wrapper=dict(
                type='OptimWrapper', dtype='float16', optimizer=dict(type='SGD', lr=0.1)
            )
        )
    )
    train.use_amp(cfg)  # a dtype given in the config (or --cfg-options) is kept
    assert cfg.optim_wrapper.dtype == 'float16'
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: True)
    cfg = Config(dict(optim_wrapper=dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))))
    train.use_amp(cfg)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.loss_scale == 'dynamic'
