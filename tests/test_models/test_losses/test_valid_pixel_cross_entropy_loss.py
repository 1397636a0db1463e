"""Cross-entropy over labeled pixels, class-weighted, as the reference."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

import mmseg_fdacl  # noqa: F401

WEIGHTS = [1.0, 100.0, 500.0, 1000.0]


def _reference(pred, target, weight):
    """FDA's CrossEntropy2d: mask out 255, then weighted F.cross_entropy."""
    n, c, h, w = pred.shape
    mask = (target >= 0) & (target != 255)
    flat = pred.permute(0, 2, 3, 1)[mask]
    return F.cross_entropy(flat, target[mask], weight=weight)


def _data(seed=0):
    g = torch.Generator().manual_seed(seed)
    pred = torch.randn(2, 4, 6, 7, generator=g, requires_grad=True)
    label = torch.randint(0, 4, (2, 6, 7), generator=g)
    label[:, :2] = 255
    return pred, label


@pytest.mark.parametrize('class_weight', [None, WEIGHTS])
def test_equals_reference_with_ignored_pixels(class_weight):
    pred, label = _data()
    loss = MODELS.build(
        dict(type='ValidPixelCrossEntropyLoss', class_weight=class_weight))
    got = loss(pred, label, ignore_index=255)
    weight = None if class_weight is None else torch.tensor(class_weight)
    assert torch.allclose(got, _reference(pred, label, weight), atol=1e-6)
    got.backward()
    assert pred.grad[:, :, :2].abs().sum() == 0  # ignored rows: no gradient


def test_mmseg_cross_entropy_fails_where_this_one_works():
    """The failure this loss exists for: MMSeg 1.2.2 + class_weight + 255."""
    pred, label = _data()
    mmseg_ce = MODELS.build(
        dict(type='CrossEntropyLoss', class_weight=WEIGHTS,
             avg_non_ignore=True))
    with pytest.raises((IndexError, RuntimeError)):
        mmseg_ce(pred, label, ignore_index=255)
    ours = MODELS.build(
        dict(type='ValidPixelCrossEntropyLoss', class_weight=WEIGHTS))
    assert torch.isfinite(ours(pred, label, ignore_index=255))


def test_scale_of_the_weights_does_not_matter():
    pred, label = _data(1)
    a = MODELS.build(dict(type='ValidPixelCrossEntropyLoss',
                          class_weight=WEIGHTS))(pred, label)
    b = MODELS.build(dict(type='ValidPixelCrossEntropyLoss',
                          class_weight=[w / 500 for w in WEIGHTS]))(pred, label)
    assert torch.allclose(a, b)


def test_unweighted_is_mean_over_valid_pixels():
    """Unlike MMSeg's default (avg_non_ignore=False), ignored pixels do not
    dilute the mean: a third of the pixels ignored does not scale it."""
    pred, label = _data(2)
    ours = MODELS.build(dict(type='ValidPixelCrossEntropyLoss'))(pred, label)
    mmseg_all = MODELS.build(dict(type='CrossEntropyLoss'))(
        pred, label, ignore_index=255)
    frac = float((label != 255).float().mean())
    assert torch.allclose(mmseg_all, ours * frac, atol=1e-6)


def test_all_ignored_is_zero_with_graph_and_errors_are_named():
    pred, label = _data()
    label[:] = 255
    out = MODELS.build(dict(type='ValidPixelCrossEntropyLoss'))(pred, label)
    assert float(out) == 0.0 and out.requires_grad
    with pytest.raises(ValueError, match='class_weight'):
        MODELS.build(
            dict(type='ValidPixelCrossEntropyLoss', class_weight=[-1.0]))
    with pytest.raises(ValueError, match='3 class weights for 4 classes'):
        MODELS.build(dict(type='ValidPixelCrossEntropyLoss',
                          class_weight=[1.0, 1.0, 1.0]))(*_data())


def _former(pred, label, class_weight, ignore_index=255):
    """The former body, which asked the host ``bool(valid.any())``."""
    if not bool((label != ignore_index).any()):
        return pred.sum() * 0.0
    return F.cross_entropy(pred.float(), label, weight=class_weight,
                           ignore_index=ignore_index, reduction='mean')


@pytest.mark.parametrize('class_weight', [None, WEIGHTS])
def test_sync_free_form_is_bit_identical(class_weight):
    from mmseg_fdacl.models.losses.valid_pixel_cross_entropy_loss import \
        valid_pixel_cross_entropy
    weight = None if class_weight is None else torch.tensor(class_weight)
    pred, label = _data(3)
    old = _former(pred, label, weight)
    (old_grad, ) = torch.autograd.grad(old, pred)
    new = valid_pixel_cross_entropy(pred, label, weight)
    (new_grad, ) = torch.autograd.grad(new, pred)
    assert torch.equal(new, old) and torch.equal(new_grad, old_grad)
    label[:] = 255
    new = valid_pixel_cross_entropy(pred, label, weight)
    (grad, ) = torch.autograd.grad(new, pred)
    assert float(new) == 0.0 and torch.equal(grad, torch.zeros_like(pred))
