"""PixelContrastLoss: brute-force SupCon, gradients, ignore, sampling."""
import pytest
import torch
import torch.nn.functional as F

from mmseg.registry import MODELS
from mmseg_fdacl.models.losses.pixel_contrast_loss import (
    PixelContrastLoss, downsample_labels, pixel_contrast_loss,
    sample_anchor_indices)


def brute_force_supcon(embs, labels, temperature, ignore_index=255):
    """Per-anchor SupCon L_out, straight from Khosla et al. (2020), Eq. 2."""
    feats, labs = [], []
    for emb, lab in zip(embs, labels):
        n, d, h, w = emb.shape
        lab = F.interpolate(lab[:, None].float(), size=(h, w),
                            mode='nearest')[:, 0].long()
        for b in range(n):
            for y in range(h):
                for x in range(w):
                    if int(lab[b, y, x]) != ignore_index:
                        feats.append(F.normalize(emb[b, :, y, x], dim=0))
                        labs.append(int(lab[b, y, x]))
    losses = []
    for i in range(len(feats)):
        positives = [
            p for p in range(len(feats)) if p != i and labs[p] == labs[i]
        ]
        if not positives:
            continue
        denom = sum(
            torch.exp(feats[i] @ feats[a] / temperature)
            for a in range(len(feats)) if a != i)
        terms = [
            torch.log(torch.exp(feats[i] @ feats[p] / temperature) / denom)
            for p in positives
        ]
        losses.append(-sum(terms) / len(positives))
    return sum(losses) / len(losses)


def _views(seed=0, n=2, d=6, h=3, w=4, dtype=torch.float32):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, d, h, w, generator=g, dtype=dtype)
            for _ in range(2)]


def _labels(seed=0, n=2, size=(6, 8), classes=3, ignore_frac=0.2):
    g = torch.Generator().manual_seed(seed)
    lab = torch.randint(0, classes, (n, ) + size, generator=g)
    lab[torch.rand((n, ) + size, generator=g) < ignore_frac] = 255
    return lab


@pytest.mark.parametrize('temperature', [0.07, 0.5])
def test_equals_brute_force_without_sampling(temperature):
    embs, lab = _views(), _labels()
    ours = PixelContrastLoss(sampling=None, temperature=temperature)(embs, lab)
    ref = brute_force_supcon(embs, [lab, lab], temperature)
    assert float(ours) == pytest.approx(float(ref), rel=1e-5)
    # One label map per view gives the same anchor set, hence the same loss.
    per_view = PixelContrastLoss(
        sampling=None, temperature=temperature)(embs, [lab, lab])
    assert float(per_view) == pytest.approx(float(ref), rel=1e-5)


def test_single_view_and_base_temperature():
    emb, lab = _views()[0], _labels(1)
    ref = brute_force_supcon([emb], [lab], 0.1)
    ours = pixel_contrast_loss(
        emb, lab, sampling=None, temperature=0.1, base_temperature=0.07)
    assert float(ours) == pytest.approx(float(ref) * 0.1 / 0.07, rel=1e-5)


def test_gradcheck_float64():
    embs = [
        e.requires_grad_(True)
        for e in _views(n=1, d=3, h=2, w=3, dtype=torch.float64)
    ]
    lab = torch.tensor([[[0, 1, 1], [0, 255, 1]]])

    def fn(a, b):
        return pixel_contrast_loss([a, b], lab, sampling=None,
                                   temperature=0.5)

    assert torch.autograd.gradcheck(fn, tuple(embs))


@pytest.mark.parametrize('sampling', ['balanced', 'uniform', None])
def test_ignored_pixels_never_used(sampling):
    embs = [e.requires_grad_(True) for e in _views(h=6, w=8)]
    lab = _labels(size=(6, 8), ignore_frac=0.5)
    loss = PixelContrastLoss(sampling=sampling, max_samples=40, max_views=8)
    torch.manual_seed(3)
    out = loss(embs, lab)
    out.backward()
    ignored = (lab == 255)
    for e in embs:
        assert torch.all(e.grad.permute(0, 2, 3, 1)[ignored] == 0)
        assert e.grad.abs().sum() > 0
    # Changing what sits under the ignored pixels changes nothing.
    altered = [e.detach().clone() for e in embs]
    for e in altered:
        e.permute(0, 2, 3, 1)[ignored] = 100.0
    torch.manual_seed(3)
    assert float(loss(altered, lab)) == pytest.approx(float(out), rel=1e-6)


def test_sampler_never_returns_ignore():
    torch.manual_seed(0)
    labels = torch.randint(0, 4, (5000, ))
    labels[torch.rand(5000) < 0.7] = 255
    hard = torch.rand(5000) < 0.3
    for sampling in ('balanced', 'uniform', None):
        idx = sample_anchor_indices(
            labels, hard, sampling=sampling, max_samples=300, max_views=50)
        assert (labels[idx] != 255).all()
        assert idx.unique().numel() == idx.numel()


def test_balanced_sampling_keeps_rare_class():
    torch.manual_seed(0)
    labels = torch.zeros(50050, dtype=torch.long)
    labels[torch.randperm(50050)[:50]] = 1  # 1000 : 1
    idx = sample_anchor_indices(
        labels, sampling='balanced', max_samples=1024, max_views=40)
    counts = torch.bincount(labels[idx], minlength=2)
    assert counts.tolist() == [40, 40]
    # Uniform sampling (the method's) almost never sees the rare class.
    idx = sample_anchor_indices(labels, sampling='uniform', max_samples=1000)
    assert idx.numel() == 1000
    assert int((labels[idx] == 1).sum()) < 10


def test_balanced_quota_respects_max_samples():
    torch.manual_seed(0)
    labels = torch.arange(19).repeat_interleave(1000)
    idx = sample_anchor_indices(
        labels, sampling='balanced', max_samples=190, max_views=100)
    assert torch.bincount(labels[idx]).tolist() == [10] * 19


def test_hard_easy_split():
    torch.manual_seed(0)
    labels = torch.zeros(2000, dtype=torch.long)
    hard = torch.zeros(2000, dtype=torch.bool)
    hard[:100] = True
    idx = sample_anchor_indices(
        labels, hard, sampling='balanced', max_samples=1024, max_views=60,
        hard_ratio=0.5)
    assert int(hard[idx].sum()) == 30 and idx.numel() == 60
    # Too few hard pixels: take them all and fill up with easy ones.
    hard[:] = False
    hard[:10] = True
    idx = sample_anchor_indices(
        labels, hard, sampling='balanced', max_samples=1024, max_views=60,
        hard_ratio=0.5)
    assert int(hard[idx].sum()) == 10 and idx.numel() == 60


def test_preds_accepted_per_view():
    embs, lab = _views(h=6, w=8), _labels(size=(12, 16))
    preds = [torch.randint(0, 3, (2, 6, 8)) for _ in range(2)]
    out = PixelContrastLoss(max_samples=32, max_views=8)(embs, lab, preds)
    assert torch.isfinite(out)


def test_total_anchors_bounded_by_max_samples(monkeypatch):
    import mmseg_fdacl.models.losses.supcon as pcl
    seen = {}
    real = pcl.supcon_loss

    def spy(feats, labels, **kw):
        seen['anchors'] = feats.shape[0]
        return real(feats, labels, **kw)

    monkeypatch.setattr(pcl, 'supcon_loss', spy)
    embs = [torch.randn(1, 4, 32, 32) for _ in range(2)]
    lab = torch.randint(0, 19, (1, 256, 256))
    for sampling, cap in (('balanced', 64), ('uniform', 64)):
        pcl.pixel_contrast_loss(
            embs, lab, sampling=sampling, max_samples=cap, max_views=16)
        assert 0 < seen['anchors'] <= cap


def test_seeded_by_torch_global_rng():
    embs, lab = _views(h=6, w=8), _labels(size=(6, 8), classes=5)
    loss = PixelContrastLoss(max_samples=20, max_views=4)
    torch.manual_seed(1)
    a = loss(embs, lab)
    torch.manual_seed(1)
    b = loss(embs, lab)
    torch.manual_seed(2)
    c = loss(embs, lab)
    assert float(a) == float(b) and float(a) != float(c)


@pytest.mark.parametrize('labels', [
    torch.full((1, 4, 4), 255),                        # nothing valid
    torch.zeros(1, 4, 4, dtype=torch.long),            # one class
    torch.tensor([[[0, 255], [255, 255]]]),            # one pixel
])
def test_degenerate_inputs_give_zero_with_graph(labels):
    embs = [torch.randn(1, 3, 4, 4, requires_grad=True) for _ in range(2)]
    if labels.shape[-1] == 2:
        embs = [torch.randn(1, 3, 2, 2, requires_grad=True)]
    out = PixelContrastLoss()(embs, labels)
    assert float(out) == 0 and out.requires_grad
    out.backward()
    for e in embs:
        assert e.grad is not None and torch.all(e.grad == 0)


def test_half_precision_embeddings_finite():
    embs = [e.half() for e in _views()]
    out = PixelContrastLoss()(embs, _labels())
    assert torch.isfinite(out) and out.dtype == torch.float32


def test_majority_downsample():
    lab = torch.tensor([[[0, 0, 1, 1], [0, 2, 1, 255], [3, 3, 255, 255],
                         [3, 4, 255, 255]]])
    out = downsample_labels(lab, (2, 2), 'majority')
    assert out.tolist() == [[[0, 1], [3, 255]]]
    # Nearest picks the same pixel as F.interpolate(mode='nearest').
    big = torch.randint(0, 19, (2, 37, 53))
    ref = F.interpolate(big[:, None].float(), (9, 13), mode='nearest')
    assert torch.equal(downsample_labels(big, (9, 13)), ref[:, 0].long())


def test_registry_and_argument_errors():
    loss = MODELS.build(dict(type='PixelContrastLoss', sampling='uniform',
                             max_samples=2000))
    assert loss.loss_name == 'loss_cl' and loss.max_samples == 2000
    for kwargs, name in ((dict(temperature=0), 'temperature'),
                         (dict(max_samples=0), 'max_samples'),
                         (dict(max_views=1.5), 'max_views'),
                         (dict(sampling='random'), 'sampling'),
                         (dict(hard_ratio=1.5), 'hard_ratio'),
                         (dict(label_downsample='bilinear'),
                          'label_downsample'),
                         (dict(loss_name='cl'), 'loss_name')):
        with pytest.raises(ValueError, match=name):
            PixelContrastLoss(**kwargs)
    with pytest.raises(ValueError, match='label maps'):
        PixelContrastLoss()(_views(), [_labels()] * 3)
