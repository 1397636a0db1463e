"""Interpolating and normalizing only the drawn positions changes nothing.

The contrastive term of stage 2 and fda-cl-online used to upsample the
logits of both views to the input size and L2-normalize every pixel before
drawing 2000 positions; :func:`upsample_normalize_at` does it at the drawn
positions. These tests compare the loss value and the gradient of the
low-resolution logits of both paths on fixed inputs: bit-identical on the
x86 CPU kernels (AVX2 / AVX-512, which fuse the multiply-adds that the
module reproduces), equal to float rounding anywhere.
"""
import pytest
import torch
import torch.nn.functional as F

from mmseg_fdacl.models.losses import PixelContrastLoss
from mmseg_fdacl.models.losses.sampled_upsample import (fma32,
                                                        upsample_normalize_at)

EXACT = torch.backends.cpu.get_cpu_capability() in ('AVX2', 'AVX512')


def _same(a, b, exact=True):
    if EXACT and exact:
        assert torch.equal(a, b), (a - b).abs().max()
    else:
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_fma32_is_one_rounding():
    g = torch.Generator().manual_seed(0)
    a, b, c = (torch.randn(10000, generator=g) for _ in range(3))
    exact = a.double() * b.double() + c.double()
    got = fma32(a, b, c)
    # Correctly rounded: no float32 is nearer to the exact value.
    err = (got.double() - exact).abs()
    for nb in (torch.nextafter(got, torch.full_like(got, float('inf'))),
               torch.nextafter(got, torch.full_like(got, float('-inf')))):
        assert bool(((nb.double() - exact).abs() >= err).all())


@pytest.mark.parametrize('shape,size,align', [
    ((2, 19, 33, 65), (256, 512), False),
    ((1, 19, 33, 65), (256, 512), True),
    ((1, 7, 17, 20), (129, 155), False),
    ((1, 5, 16, 16), (16, 16), False),
])
def test_values_and_gradient_match_full_map(shape, size, align):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(*shape, generator=g)
    n = shape[0]
    pos = torch.unique(
        torch.randint(0, n * size[0] * size[1], (1500, ), generator=g))
    up = torch.randn(pos.numel(), shape[1], generator=g)

    xa = x.clone().requires_grad_()
    full = F.normalize(
        F.interpolate(xa, size, mode='bilinear', align_corners=align),
        dim=1)
    # Gathered as the loss gathered from the full map.
    hw = size[0] * size[1]
    ref = full.reshape(n, shape[1], hw)[pos // hw, :, pos % hw]
    (ref * up).sum().backward()

    xb = x.clone().requires_grad_()
    got = upsample_normalize_at(xb, pos, size, align_corners=align)
    (got * up).sum().backward()
    _same(got, ref)
    # A map of H * W not a multiple of 64 takes the scalar path at its last
    # pixels (see upsample_normalize_at): equal to float rounding there.
    _same(xb.grad, xa.grad, exact=hw % 64 == 0)


def _old_call(loss, logits_t, logits_ts, labels, size):
    """The segmentor's former call: upsample, normalize, then the loss."""
    emb = [
        F.normalize(
            F.interpolate(v, size, mode='bilinear', align_corners=False),
            dim=1) for v in (logits_t, logits_ts)
    ]
    return loss(emb, labels)


@pytest.mark.parametrize('n', [1, 2])
def test_cross_view_loss_and_gradients_identical(n):
    g = torch.Generator().manual_seed(2)
    size = (128, 256)
    labels = torch.randint(0, 19, (n, ) + size, generator=g)
    labels[:, :10] = 255
    logits = [torch.randn(n, 19, 17, 33, generator=g) for _ in range(2)]
    loss = PixelContrastLoss(
        form='cross_view', sampling='uniform', max_samples=2000)
    results = []
    for new in (False, True):
        views = [v.clone().requires_grad_() for v in logits]
        torch.manual_seed(3)
        if new:
            value = loss(views, labels, size=size, normalize=True)
        else:
            value = _old_call(loss, views[0], views[1], labels, size)
        value.backward()
        results.append((value.detach(), [v.grad for v in views]))
    (old, old_grads), (new, new_grads) = results
    _same(new, old)
    for a, b in zip(new_grads, old_grads):
        _same(a, b)


def test_supcon_form_upsamples_the_map():
    g = torch.Generator().manual_seed(4)
    size = (32, 64)
    labels = torch.randint(0, 5, (1, ) + size, generator=g)
    logits = [torch.randn(1, 5, 9, 17, generator=g) for _ in range(2)]
    loss = PixelContrastLoss(form='supcon', sampling='uniform',
                             max_samples=200)
    torch.manual_seed(5)
    old = _old_call(loss, logits[0], logits[1], labels, size)
    torch.manual_seed(5)
    new = loss(logits, labels, size=size, normalize=True)
    assert torch.equal(new, old)


def test_bad_rank():
    with pytest.raises(ValueError, match='N x D x h x w'):
        upsample_normalize_at(torch.zeros(3, 4, 5), torch.zeros(1).long(),
                              (8, 8))
