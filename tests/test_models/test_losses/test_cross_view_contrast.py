"""The method's cross-view contrastive loss against an independent reference."""
import pytest
import torch
import torch.nn.functional as F

from mmseg_fdacl.models.losses import PixelContrastLoss
from mmseg_fdacl.models.losses.cross_view_contrast import (
    cross_view_contrast_loss, sample_positions)


def _reference(src, trg, lbl, temperature):
    """zgerem/UDA's formula written out pair by pair (A x A loops)."""
    src = F.normalize(src.double(), dim=1)
    trg = F.normalize(trg.double(), dim=1)
    a = src.shape[0]
    total = 0.0
    for i in range(a):
        sims = [float(src[i] @ trg[j]) / temperature for j in range(a)]
        neg = sum(torch.tensor(s).exp() for j, s in enumerate(sims)
                  if lbl[j] != lbl[i])
        pos = [j for j in range(a) if lbl[j] == lbl[i]]
        terms = [
            -torch.log(torch.tensor(sims[j]).exp() /
                       (torch.tensor(sims[j]).exp() + neg)) for j in pos
        ]
        total += float(sum(terms)) / len(pos)
    return total / a


@pytest.mark.parametrize('temperature', [0.07, 0.5])
def test_equals_pairwise_reference(temperature):
    g = torch.Generator().manual_seed(0)
    anchors = torch.randn(24, 5, generator=g)
    contrast = torch.randn(24, 5, generator=g)
    labels = torch.randint(0, 4, (24, ), generator=g)
    got = cross_view_contrast_loss(
        anchors, contrast, labels, temperature=temperature)
    want = _reference(anchors, contrast, labels, temperature)
    assert abs(float(got) - want) < 1e-4 * max(1.0, abs(want))


def test_not_symmetric_in_the_views_and_differs_from_supcon():
    g = torch.Generator().manual_seed(1)
    a, c = torch.randn(16, 4, generator=g), torch.randn(16, 4, generator=g)
    lab = torch.randint(0, 3, (16, ), generator=g)
    ab = cross_view_contrast_loss(a, c, lab)
    ba = cross_view_contrast_loss(c, a, lab)
    assert not torch.allclose(ab, ba)


def test_gradient_reaches_both_views():
    g = torch.Generator().manual_seed(2)
    a = torch.randn(12, 4, generator=g, requires_grad=True)
    c = torch.randn(12, 4, generator=g, requires_grad=True)
    lab = torch.randint(0, 3, (12, ), generator=g)
    cross_view_contrast_loss(a, c, lab).backward()
    assert a.grad.abs().sum() > 0 and c.grad.abs().sum() > 0


def test_sample_positions_counts_positions_and_skips_ignored():
    torch.manual_seed(0)
    labels = torch.full((1000, ), 255)
    labels[:10] = 3
    idx = sample_positions(labels, 2000)
    assert idx.numel() == 2000  # with replacement, as torch.randint
    assert bool((labels[idx] == 3).all())
    idx = sample_positions(labels, 2000, ignore_as_class=True)
    assert bool((labels[idx] == 255).any())
    assert sample_positions(torch.full((5, ), 255), 10).numel() == 0


def _views(n=2, d=6, h=8, w=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(n, d, h, w, generator=g, requires_grad=True),
            torch.randn(n, d, h, w, generator=g, requires_grad=True),
            torch.randint(0, 4, (n, h, w), generator=g))


def test_module_form_uses_given_positions():
    """The module's value equals the functional loss on the drawn pixels."""
    emb_t, emb_ts, lab = _views()
    lab[:, :2] = 255
    loss = PixelContrastLoss(form='cross_view', sampling='uniform',
                             max_samples=50, loss_weight=2.0)
    torch.manual_seed(5)
    got = loss([emb_t, emb_ts], lab)
    torch.manual_seed(5)
    flat = lab.reshape(-1)
    idx = sample_positions(flat, 50)
    img, pix = idx // 96, idx % 96
    want = cross_view_contrast_loss(
        emb_t.reshape(2, 6, 96)[img, :, pix],
        emb_ts.reshape(2, 6, 96)[img, :, pix], flat[idx])
    assert torch.allclose(got, 2.0 * want)
    got.backward()
    assert emb_t.grad.abs().sum() > 0 and emb_ts.grad.abs().sum() > 0


def test_module_balanced_positions_cover_rare_classes():
    emb_t, emb_ts, lab = _views(h=20, w=20)
    lab[:] = 0
    lab[0, 0, :3] = 1  # 3 pixels of a rare class
    loss = PixelContrastLoss(form='cross_view', sampling='balanced',
                             max_samples=40, max_views=20)
    assert torch.isfinite(loss([emb_t, emb_ts], lab))


def test_module_validates_its_options():
    with pytest.raises(ValueError, match='form'):
        PixelContrastLoss(form='both')
    with pytest.raises(ValueError, match='ignore_as_class'):
        PixelContrastLoss(form='supcon', ignore_as_class=True)
    emb_t, emb_ts, lab = _views()
    with pytest.raises(ValueError, match='two views'):
        PixelContrastLoss(form='cross_view')([emb_t], lab)


def test_nothing_labeled_gives_zero_with_graph():
    emb_t, emb_ts, lab = _views()
    lab[:] = 255
    out = PixelContrastLoss(form='cross_view', sampling='uniform')(
        [emb_t, emb_ts], lab)
    assert float(out) == 0.0 and out.requires_grad
