"""EntropyLoss: closed forms, Charbonnier form, masks, low precision."""
import math

import pytest
import torch

from mmseg.registry import MODELS
from mmseg_fdacl.models.losses.entropy_loss import (EntropyLoss, entropy_loss,
                                                    entropy_map)


def test_uniform_is_one_and_one_hot_is_zero():
    uniform = torch.zeros(2, 19, 4, 5)
    assert entropy_map(uniform) == pytest.approx(torch.ones(2, 4, 5))
    assert float(entropy_loss(uniform)) == pytest.approx(1.0, abs=1e-6)
    one_hot = torch.full((2, 19, 4, 5), -1e4)
    one_hot[:, 3] = 1e4
    assert float(entropy_loss(one_hot)) == pytest.approx(0.0, abs=1e-7)


def test_two_class_closed_form():
    p = torch.tensor([0.25, 0.75])
    logits = p.log().view(1, 2, 1, 1).expand(1, 2, 3, 3)
    expected = -(0.25 * math.log(0.25) + 0.75 * math.log(0.75)) / math.log(2)
    assert float(entropy_loss(logits)) == pytest.approx(expected, rel=1e-6)
    eta2 = entropy_loss(logits, charbonnier_eta=2.0)
    assert float(eta2) == pytest.approx((expected**2 + 1e-8)**2, rel=1e-6)


def test_module_weight_name_and_registry():
    loss = MODELS.build(
        dict(type='EntropyLoss', loss_weight=0.005, charbonnier_eta=2.0))
    assert isinstance(loss, EntropyLoss)
    assert loss.loss_name == 'loss_ent'
    out = loss(torch.zeros(1, 19, 2, 2))
    assert float(out) == pytest.approx(0.005 * (1 + 1e-8)**2, rel=1e-6)


def test_mask_selects_pixels():
    torch.manual_seed(0)
    logits = torch.randn(2, 5, 3, 4)
    mask = torch.rand(2, 3, 4) > 0.5
    ent = entropy_map(logits)
    assert float(entropy_loss(logits, mask)) == pytest.approx(
        float(ent[mask].mean()), rel=1e-6)
    # Masked-out pixels get no gradient.
    logits.requires_grad_(True)
    entropy_loss(logits, mask).backward()
    assert torch.all(logits.grad.permute(0, 2, 3, 1)[~mask] == 0)


def test_empty_mask_gives_zero_with_graph():
    logits = torch.randn(1, 4, 2, 2, requires_grad=True)
    out = entropy_loss(logits, torch.zeros(1, 2, 2, dtype=torch.bool))
    assert float(out) == 0 and out.requires_grad
    out.backward()
    assert torch.all(logits.grad == 0)


@pytest.mark.parametrize('dtype', [torch.float16, torch.bfloat16])
def test_low_precision_logits_no_nan(dtype):
    logits = torch.zeros(1, 19, 4, 4)
    logits[:, 0] = 6e4 if dtype == torch.float16 else 1e30
    logits[:, 1, :2] = -6e4 if dtype == torch.float16 else -1e30
    logits = logits.to(dtype).requires_grad_(True)
    out = EntropyLoss(charbonnier_eta=2.0)(logits)
    assert out.dtype == torch.float32 and torch.isfinite(out)
    out.backward()
    assert torch.isfinite(logits.grad.float()).all()


@pytest.mark.parametrize('kwargs, name', [
    (dict(loss_weight=-1.0), 'loss_weight'),
    (dict(charbonnier_eta=0.0), 'charbonnier_eta'),
    (dict(loss_name='ent'), 'loss_name'),
])
def test_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        EntropyLoss(**kwargs)


def test_bad_mask_shape_is_explained():
    with pytest.raises(ValueError, match='mask'):
        entropy_loss(torch.zeros(1, 3, 4, 4), torch.ones(1, 8, 8).bool())
