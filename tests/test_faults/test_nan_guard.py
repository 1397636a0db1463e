"""NaN/Inf guard: a non-finite loss stops training naming the term and the
iteration (or skips the step), and never reaches a saved checkpoint."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.runner import Runner
from mmseg.registry import MODELS

from mmseg_fdacl.engine.optimizers import (NonFiniteGuardOptimWrapper,
                                           NonFiniteLossError)
from tests.test_faults import faultkit as fk


@MODELS.register_module(force=True)
class NaNFromCallLoss(torch.nn.Module):
    """Cross-entropy that turns NaN from its ``nan_from``-th call on."""

    def __init__(self, nan_from: int = 3, loss_name: str = 'loss_boom'):
        super().__init__()
        self.nan_from = nan_from
        self.calls = 0
        self._loss_name = loss_name

    def forward(self, cls_score, label, weight=None, ignore_index=255, **kw):
        self.calls += 1
        loss = F.cross_entropy(cls_score, label.long(),
                               ignore_index=ignore_index)
        return loss * float('nan') if self.calls >= self.nan_from else loss

    @property
    def loss_name(self):
        return self._loss_name


def _runner(data, work, mode):
    model = fk.tiny_deeplabv2_cfg()
    model['data_preprocessor']['size'] = (24, 48)
    model['decode_head']['loss_decode'] = dict(
        type='NaNFromCallLoss', nan_from=3)
    cfg = fk.source_only_cfg(
        data, work, max_iters=4, ckpt_interval=1, val_interval=1,
        max_keep_ckpts=10, model=model,
        optim_wrapper=dict(
            type='NonFiniteGuardOptimWrapper', on_non_finite=mode,
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9)))
    cfg.experiment_name = f'nan_{mode}_{id(cfg)}'
    return Runner.from_cfg(cfg)


def _finite(path):
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    return all(torch.isfinite(v).all() for v in ckpt['state_dict'].values()
               if v.is_floating_point())


def test_raise_names_term_and_iteration(fault_data, tmp_path):
    work = str(tmp_path / 'raise')
    runner = _runner(fault_data, work, 'raise')
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    msg = str(err.value)
    assert 'iteration 3' in msg and 'decode.loss_boom=nan' in msg
    assert "on_non_finite='skip'" in msg
    with open(osp.join(work, 'last_checkpoint')) as f:
        assert f.read().endswith('iter_2.pth')
    assert not osp.exists(osp.join(work, 'iter_3.pth'))
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())


def test_skip_keeps_weights_and_best_finite(fault_data, tmp_path):
    work = str(tmp_path / 'skip')
    runner = _runner(fault_data, work, 'skip')
    runner.train()
    wrapper = runner.optim_wrapper
    assert isinstance(wrapper, NonFiniteGuardOptimWrapper)
    assert wrapper.num_skipped == 2  # iterations 3 and 4
    assert runner.message_hub.get_info('non_finite_skipped') == 2
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())
    assert _finite(osp.join(work, 'iter_4.pth'))
    best = runner.message_hub.get_info('best_ckpt')
    assert best and _finite(best)

    # A model with non-finite weights never becomes the best checkpoint.
    hook = [h for h in runner.hooks if type(h).__name__ ==
            'AtomicCheckpointHook'][0]
    with torch.no_grad():
        next(runner.model.parameters()).fill_(float('nan'))
    hook._save_best_checkpoint(runner, {'mIoU': 100.0})
    assert runner.message_hub.get_info('best_ckpt') == best
    assert osp.isfile(best)


def test_guard_arguments_validated():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(ValueError, match="on_non_finite.*'ignore'"):
        NonFiniteGuardOptimWrapper(optimizer=opt, on_non_finite='ignore')
    with pytest.raises(ValueError, match='max_consecutive_skips.*0'):
        NonFiniteGuardOptimWrapper(optimizer=opt, max_consecutive_skips=0)


def test_consecutive_skips_bounded():
    p = torch.nn.Parameter(torch.ones(1))
    wrapper = NonFiniteGuardOptimWrapper(
        optimizer=torch.optim.SGD([p], lr=0.1), on_non_finite='skip',
        max_consecutive_skips=2)
    for _ in range(2):
        wrapper.update_params((p * float('inf')).sum())
    assert p.item() == 1.0 and wrapper.num_skipped == 2
    with pytest.raises(NonFiniteLossError, match='max_consecutive_skips=2'):
        wrapper.update_params((p * float('nan')).sum())
    wrapper.update_params((p * 2).sum())
    assert p.item() == pytest.approx(0.8)


def test_amp_twin_keeps_the_guard():
    """--amp maps the guarded wrapper to a subclass of both parents."""
    from mmengine.optim import AmpOptimWrapper
    from mmseg.registry import OPTIM_WRAPPERS

    from mmseg_fdacl.engine.optimizers import (NonFiniteGuardAmpOptimWrapper,
                                               NonFiniteGuardOptimWrapper)
    cls = OPTIM_WRAPPERS.get('NonFiniteGuardAmpOptimWrapper')
    assert cls is NonFiniteGuardAmpOptimWrapper
    assert issubclass(cls, NonFiniteGuardOptimWrapper)
    assert issubclass(cls, AmpOptimWrapper)
    # The guard's update_params runs first, then AMP's scaled backward.
    mro = cls.__mro__
    assert mro.index(NonFiniteGuardOptimWrapper) < mro.index(AmpOptimWrapper)


def test_amp_twin_runs_on_cpu_and_still_guards():
    """`--amp` on a CPU-only machine: bf16 autocast, the guard still raises."""
    import pytest
    import torch
    from mmseg.registry import OPTIM_WRAPPERS

    from mmseg_fdacl.engine.optimizers import NonFiniteLossError
    if torch.cuda.is_available():
        pytest.skip('checks the CPU path')
    model = torch.nn.Linear(4, 2)
    wrapper = OPTIM_WRAPPERS.build(
        dict(type='NonFiniteGuardAmpOptimWrapper', loss_scale='dynamic',
             optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(3, 4))
    assert out.dtype == torch.bfloat16
    wrapper.update_params(out.float().pow(2).mean())
    assert not torch.equal(before, model.weight)
    after = model.weight.detach().clone()
    with pytest.raises(NonFiniteLossError):
        wrapper.update_params(torch.tensor(float('nan')))
    assert torch.equal(after, model.weight)
