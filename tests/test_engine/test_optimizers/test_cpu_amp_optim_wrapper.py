"""CPUAmpOptimWrapper: bf16 autocast + unscaled steps on a CPU-only machine."""
import pytest
import torch
from mmengine.optim import build_optim_wrapper

from mmseg_fdacl.demo.batches import make_batch
from mmseg_fdacl.demo.models import (build_trainable, deeplabv2_cfg,
                                     uda_mode_cfg)
from mmseg_fdacl.engine.optimizers import CPUAmpOptimWrapper

pytestmark = pytest.mark.skipif(
    torch.cuda.is_available(), reason='tests the CPU-only path')


def _wrapper(model, **kwargs):
    return build_optim_wrapper(
        model,
        dict(
            type='CPUAmpOptimWrapper',
            optimizer=dict(type='SGD', lr=0.01, momentum=0.9),
            **kwargs))


def test_stage2_train_step_in_bf16_is_finite_and_updates():
    base = deeplabv2_cfg(base_channels=4, crop=(32, 64))
    model, _ = build_trainable(uda_mode_cfg('stage2', base))
    optim = _wrapper(model, dtype='bfloat16')
    assert isinstance(optim, CPUAmpOptimWrapper)
    dtypes = []
    handle = model.backbone.register_forward_hook(
        lambda mod, args, out: dtypes.append(out[-1].dtype))
    before = [p.detach().clone() for p in model.parameters()]
    log = model.train_step(make_batch('stage2', 2, (32, 64)), optim)
    handle.remove()
    assert dtypes and all(d == torch.bfloat16 for d in dtypes)
    assert {'loss_ce_src', 'loss_ent_trg', 'loss_cl'} <= set(log)
    assert all(torch.isfinite(v).all() for v in log.values())
    changed = [not torch.equal(a, b)
               for a, b in zip(before, model.parameters())]
    assert any(changed)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    # the checkpoint round trip of the (disabled) scaler works
    state = optim.state_dict()
    optim.load_state_dict(state)


def test_fp16_on_cpu_is_refused_with_the_argument_named():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match='`dtype`.*bfloat16'):
        _wrapper(model, dtype='float16')


def test_plain_amp_wrapper_refuses_cpu():
    """Why this class exists: mmengine's wrapper asserts an accelerator."""
    model = torch.nn.Linear(2, 2)
    with pytest.raises(AssertionError):
        build_optim_wrapper(
            model,
            dict(type='AmpOptimWrapper', dtype='bfloat16',
                 optimizer=dict(type='SGD', lr=0.01)))
