"""The loss benchmark's measurement runs and sees what max_samples bounds."""
import torch

from mmseg_fdacl.models.losses.pixel_contrast_loss import PixelContrastLoss
from tools.benchmarks.bench_losses import make_inputs, measure


def test_measure_tracks_anchor_budget():
    torch.manual_seed(0)
    embs, labels = make_inputs(128, 128, 'even')
    small = measure(PixelContrastLoss(max_samples=64), embs, labels, reps=1)
    big = measure(PixelContrastLoss(max_samples=512), embs, labels, reps=1)
    for sec, peak, working, anchors in (small, big):
        assert sec > 0 and 0 < working <= peak
    assert small[3] <= 64 < big[3] <= 512
    # The similarity matrices grow with the square of the anchors.
    assert big[2] > 4 * small[2]
    assert all(e.grad is None for e in embs)
