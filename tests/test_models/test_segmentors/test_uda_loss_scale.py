"""Loss scale of UDAEncoderDecoder: each term's gradient norm at the shared
features (checked against an independent backward pass), the contrastive
weight schedule (the reference's hard switch, a linear ramp), and the hook
that asks for the norms on logging iterations."""
import copy
import glob
import os.path as osp

import pytest
import torch
from mmengine.logging import MessageHub
from mmseg.registry import MODELS

from mmseg_fdacl.engine.hooks import FeatureGradNormHook
from mmseg_fdacl.models.segmentors.contrast_schedule import cl_factor
from tests.test_engine.test_pseudo_label_hook import _cfg, _train
from tests.test_engine.test_pseudo_label_hook import data as hook_data  # noqa: F401,E501
from tests.test_models.test_segmentors.test_uda_encoder_decoder import (
    _data, _losses, _reset_iter, _uda_cfg)  # noqa: F401

TERMS = ('loss_ce_src', 'loss_ent_trg', 'loss_cl')


def _set_iter(it):
    MessageHub.get_current_instance().update_info('iter', it)


def _norms_by_backward(model, data):
    """Per term, the norm of d term / d (backbone outputs of every view),
    by ``backward`` on tensors that retain their gradient: a mechanism
    independent of the segmentor's ``torch.autograd.grad``."""
    feats = []

    def keep(module, args, out):
        for f in out:
            f.retain_grad()
            feats.append(f)

    handle = model.backbone.register_forward_hook(keep)
    losses = _losses(model, copy.deepcopy(data))
    handle.remove()
    norms = {}
    for key in TERMS:
        for f in feats:
            f.grad = None
        model.zero_grad()
        losses[key].backward(retain_graph=True)
        sq = sum(float(f.grad.pow(2).sum()) for f in feats
                 if f.grad is not None)
        norms[key] = sq**0.5
    return losses, norms


def test_grad_norms_per_term_match_a_direct_backward():
    torch.manual_seed(0)
    model = MODELS.build(_uda_cfg(lambda_ent=1.0))
    data = _data()
    torch.manual_seed(1)
    plain = _losses(model, copy.deepcopy(data))
    assert not any(k.startswith('gnorm_') for k in plain)
    model.request_grad_norms()
    torch.manual_seed(1)
    asked = _losses(model, copy.deepcopy(data))
    assert {k for k in asked if k.startswith('gnorm_')} == {
        'gnorm_ce_src', 'gnorm_ent_trg', 'gnorm_cl'
    }
    # Asking changes no loss; the request is for one call only.
    for key in plain:
        assert torch.equal(plain[key], asked[key]), key
    assert not any(k.startswith('gnorm_') for k in _losses(model, _data()))
    torch.manual_seed(1)
    _, direct = _norms_by_backward(model, data)
    for key in TERMS:
        got = float(asked[key.replace('loss_', 'gnorm_')])
        assert got == pytest.approx(direct[key], rel=1e-5), key
        assert got > 0 and not asked[key.replace('loss_',
                                                 'gnorm_')].requires_grad
    # mmengine sums only keys with "loss": the norms are logged, not added.
    total, log_vars = model.parse_losses(asked)
    torch.testing.assert_close(total, sum(asked[k] for k in TERMS))
    assert 'gnorm_cl' in log_vars


def test_terms_not_yet_on_have_no_norm():
    model = MODELS.build(_uda_cfg(warmup_iters=10))
    model.request_grad_norms()
    losses = _losses(model, _data())
    assert set(k for k in losses if k.startswith('gnorm_')) == {
        'gnorm_ce_src'
    }


@pytest.mark.parametrize('start, ramp', [(0, 1), (3, 4), (100, 250)])
def test_linear_ramp_follows_its_formula(start, ramp):
    model = MODELS.build(
        _uda_cfg(cl_schedule=dict(type='linear', start=start,
                                  ramp_iters=ramp)))
    for it in list(range(0, start + ramp + 3)) + [10 * (start + ramp)]:
        want = min(max((it - start + 1) / ramp, 0.0), 1.0)
        assert model.contrast_factor(it) == pytest.approx(want), it
    assert model.contrast_factor(start - 1) == 0.0
    assert model.contrast_factor(start + ramp - 1) == 1.0


def test_ramp_scales_the_contrastive_loss_only():
    torch.manual_seed(0)
    full = MODELS.build(_uda_cfg())
    ramp = MODELS.build(
        _uda_cfg(cl_schedule=dict(type='linear', start=2, ramp_iters=4)))
    ramp.load_state_dict(full.state_dict())
    data = _data()
    for it, factor in ((0, 0.0), (1, 0.0), (2, 0.25), (3, 0.5), (5, 1.0),
                       (9, 1.0)):
        _set_iter(it)
        torch.manual_seed(1)
        want = _losses(full, copy.deepcopy(data))
        torch.manual_seed(1)
        got = _losses(ramp, copy.deepcopy(data))
        assert float(got['cl_factor']) == factor
        assert 'cl_factor' not in want  # the default logs as before
        torch.testing.assert_close(got['loss_cl'], factor * want['loss_cl'])
        assert got['loss_cl'].requires_grad == (factor > 0)
        for key in ('loss_ce_src', 'loss_ent_trg'):
            torch.testing.assert_close(got[key], want[key])


def test_default_is_the_hard_switch_at_warmup():
    model = MODELS.build(_uda_cfg(warmup_iters=5))
    assert model.cl_schedule is None
    assert [model.contrast_factor(i) for i in (0, 4, 5, 60000)] == [
        0.0, 0.0, 1.0, 1.0
    ]
    step = MODELS.build(_uda_cfg(cl_schedule=dict(type='step', start=3)))
    assert [step.contrast_factor(i) for i in (2, 3)] == [0.0, 1.0]
    # start defaults to warmup_iters
    ramp = MODELS.build(
        _uda_cfg(warmup_iters=4, cl_schedule=dict(type='linear',
                                                  ramp_iters=2)))
    assert ramp.cl_schedule['start'] == 4
    assert cl_factor(ramp.cl_schedule, 4, 4) == 0.5


@pytest.mark.parametrize('schedule, match', [
    (dict(type='cosine'), 'type in'),
    ('linear', 'type in'),
    (dict(type='linear', start=0), 'ramp_iters'),
    (dict(type='linear', start=0, ramp_iters=0), 'ramp_iters'),
    (dict(type='linear', start=-1, ramp_iters=3), 'start'),
    (dict(type='step', start=0, ramp_iters=3), 'unknown keys'),
])
def test_bad_schedules_are_named(schedule, match):
    with pytest.raises(ValueError, match=match):
        MODELS.build(_uda_cfg(cl_schedule=schedule))


def test_hook_logs_the_norms_every_logger_interval(hook_data, tmp_path):  # noqa: F811,E501
    cfg = _cfg(hook_data, tmp_path / 'work',
               dict(type='PseudoLabelHook', checkpoints=hook_data['ckpt']),
               max_iters=4)
    cfg['custom_hooks'].append(dict(type='FeatureGradNormHook'))
    cfg['default_hooks']['logger']['interval'] = 2
    cfg['log_level'] = 'INFO'
    runner, _ = _train(cfg)
    hub = runner.message_hub.log_scalars
    for key in ('gnorm_ce_src', 'gnorm_ce_trg_pl'):
        # Two logging iterations (2 and 4), each with its own value.
        assert hub[f'train/{key}'].data[0].shape == (2, ), key
    logs = glob.glob(osp.join(str(tmp_path / 'work'), '*', '*.log'))
    lines = [ln for f in logs for ln in open(f) if 'loss_ce_src:' in ln]
    assert len(lines) == 2 and all('gnorm_ce_trg_pl' in ln for ln in lines)


def test_hook_arguments():
    assert FeatureGradNormHook(interval=5).interval == 5
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match='interval'):
            FeatureGradNormHook(interval=bad)
