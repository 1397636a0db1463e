"""FDA's per-class confidence thresholds, as plain functions.

The rule follows FDA's self-supervised training step (Yang & Soatto, "FDA:
Fourier Domain Adaptation for Semantic Segmentation", CVPR 2020, and its
reference ``getSudoLabel`` script): for each class, the confidence at a
percentile of the pixels predicted as that class, capped; pixels below their
class threshold are ignored (:data:`IGNORE_INDEX`). The percentile is read
from per-class confidence histograms, so its memory does not grow with the
number of images. Tested against brute force (``numpy.percentile``).
"""
from typing import Union

import numpy as np

from mmseg_fdacl.datasets.label_ids import IGNORE_INDEX

__all__ = [
    'confidence_histogram', 'thresholds_from_histograms', 'apply_thresholds'
]


def confidence_histogram(pred: np.ndarray, conf: np.ndarray, num_classes: int,
                         num_bins: int = 1000) -> np.ndarray:
    """Per-class histogram of confidences of the pixels predicted as a class.

    Args:
        pred (np.ndarray): Predicted class of each pixel, ``H x W`` ints.
        conf (np.ndarray): Confidence of each pixel in [0, 1], ``H x W``.
        num_classes (int): Number of classes.
        num_bins (int): Bins over [0, 1]; bin ``k`` holds ``[k/B, (k+1)/B)``,
            the last one also 1.0. Default: 1000.

    Returns:
        np.ndarray: ``num_classes x num_bins`` int64 counts.
    """
    pred = np.asarray(pred).reshape(-1).astype(np.int64)
    bins = np.clip((np.asarray(conf).reshape(-1) * num_bins).astype(np.int64),
                   0, num_bins - 1)
    flat = np.bincount(
        pred * num_bins + bins, minlength=num_classes * num_bins)
    return flat[:num_classes * num_bins].reshape(num_classes, num_bins)


def _percentile_of_histogram(counts: np.ndarray, percentile: float) -> float:
    """``numpy.percentile`` (linear) of the values a histogram counts.

    Interpolates between the sorted values at 0-based positions ``floor(q)``
    and ``ceil(q)``, ``q = percentile * (n - 1)``. Each of the two is
    estimated inside its bin (the first whose cumulative count exceeds the
    position; inside a bin the values are taken as evenly spread), so each
    estimate, and their interpolation, is within one bin width of the exact
    one.

    Args:
        counts (np.ndarray): ``num_bins`` float64 counts over [0, 1], with a
            positive sum.
        percentile (float): Fraction in [0, 1].

    Returns:
        float: The estimate.
    """
    num_bins = counts.shape[0]
    q = percentile * (counts.sum() - 1)
    cum = np.cumsum(counts)

    def element(j: float) -> float:
        k = min(int(np.searchsorted(cum, j, side='right')), num_bins - 1)
        frac = (j - (cum[k] - counts[k]) + 0.5) / counts[k]
        return (k + float(np.clip(frac, 0.0, 1.0))) / num_bins

    lo, hi = np.floor(q), np.ceil(q)
    return element(lo) + (q - lo) * (element(hi) - element(lo))


def thresholds_from_histograms(hist: np.ndarray,
                               percentile: float = 0.66,
                               cap: float = 0.9) -> np.ndarray:
    """FDA's per-class thresholds from confidence histograms.

    For each class, the confidence below which a fraction ``percentile`` of
    its pixels lie (``numpy.percentile``'s linear definition, computed from
    the histogram: within one bin width of the exact value), capped at
    ``cap``. A class no pixel was predicted as gets ``cap`` (it labels
    nothing either way).

    Args:
        hist (np.ndarray): ``num_classes x num_bins`` counts from
            :func:`confidence_histogram` (summed over images/ranks).
        percentile (float): Fraction in [0, 1]. Default: 0.66.
        cap (float): Upper bound of every threshold. Default: 0.9.

    Returns:
        np.ndarray: ``num_classes`` float64 thresholds.
    """
    hist = np.asarray(hist, dtype=np.float64)
    thresholds = np.full(hist.shape[0], float(cap))
    for c, counts in enumerate(hist):
        if counts.sum() == 0:
            continue
        thresholds[c] = min(_percentile_of_histogram(counts, percentile), cap)
    return thresholds


def apply_thresholds(pred: np.ndarray, conf: np.ndarray,
                     thresholds: Union[np.ndarray, float]) -> np.ndarray:
    """Pseudo label: the predicted class where ``conf >= threshold``, else 255.

    Args:
        pred (np.ndarray): ``H x W`` predicted classes (< 255).
        conf (np.ndarray): ``H x W`` confidences.
        thresholds (np.ndarray | float): Per-class thresholds, or one global.

    Returns:
        np.ndarray: ``H x W`` uint8 train ids, 255 = ignore.
    """
    pred = np.asarray(pred)
    if np.isscalar(thresholds) or np.ndim(thresholds) == 0:
        thr = float(thresholds)
    else:
        thr = np.asarray(thresholds, dtype=np.float64)[pred]
    label = pred.astype(np.uint8)
    label[np.asarray(conf) < thr] = IGNORE_INDEX
    return label
