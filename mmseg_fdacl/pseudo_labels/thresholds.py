"""Pseudo-label selection rules, as plain functions.

Two rules, both read from per-class confidence histograms of the pixels
predicted (argmax) as each class, so their memory does not grow with the
number of images:

* ``'fda'``, FDA's self-supervised training step (Yang & Soatto, "FDA:
  Fourier Domain Adaptation for Semantic Segmentation", CVPR 2020, and its
  reference ``getSudoLabel`` script): for each class, the confidence at a
  percentile of the pixels predicted as that class, capped; pixels below
  their class threshold are ignored (:data:`IGNORE_INDEX`).
* ``'cbst'``, class-balanced self-training (Zou et al., "Unsupervised Domain
  Adaptation for Semantic Segmentation via Class-Balanced Self-Training",
  ECCV 2018, and its reference ``kc_parameters`` / ``label_selection``): for
  each class ``c``, ``k_c`` is the confidence at the top-``portion``
  quantile of the pixels predicted as ``c``; a pixel's label is
  ``argmax_c p_c / k_c``, kept when ``max_c p_c / k_c >= 1``. Every class
  thus keeps about the same share of its pixels, and the class-normalized
  argmax can label a class where the plain argmax is another one.

Tested against brute force (``numpy.percentile``, ``numpy.argmax``).
"""
from typing import Union

import numpy as np

from mmseg_fdacl.datasets.label_ids import IGNORE_INDEX

__all__ = [
    'SELECTIONS', 'confidence_histogram', 'thresholds_from_histograms',
    'apply_thresholds', 'class_balanced_normalizers',
    'apply_class_balanced'
]

#: The selection rules :func:`generate_pseudo_labels` accepts.
SELECTIONS = ('fda', 'cbst')


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
    one. A value in the highest non-empty bin is estimated as that bin's
    lower edge: the exact percentile never exceeds the largest value, and an
    estimate inside the top bin could (all values of a class in one bin, e.g.
    equal, would then all fall below their own threshold and the class would
    get no label at all).

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
    top = int(np.flatnonzero(counts)[-1])

    def element(j: float) -> float:
        k = min(int(np.searchsorted(cum, j, side='right')), num_bins - 1)
        if k >= top:
            return top / num_bins
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


def class_balanced_normalizers(hist: np.ndarray,
                               portion: float = 0.2) -> np.ndarray:
    """CBST's per-class normalizers ``k_c`` from confidence histograms.

    For each class, the confidence above which a fraction ``portion`` of the
    pixels predicted as that class lie: ``numpy.percentile`` (linear) at
    ``1 - portion`` of their confidences, within one bin width of the exact
    value (CBST's code takes the ``floor(n * portion)``-th largest value, at
    most one order statistic away). A class no pixel was predicted as gets
    1.0, as in CBST's code (it can then label only pixels of probability 1).

    Args:
        hist (np.ndarray): ``num_classes x num_bins`` counts from
            :func:`confidence_histogram` (summed over images/ranks).
        portion (float): Share of each class's predicted pixels to keep, in
            (0, 1]. Default: 0.2 (CBST's first round).

    Returns:
        np.ndarray: ``num_classes`` float64 normalizers in (0, 1].
    """
    hist = np.asarray(hist, dtype=np.float64)
    normalizers = np.ones(hist.shape[0])
    num_bins = hist.shape[1]
    for c, counts in enumerate(hist):
        if counts.sum() == 0:
            continue
        # The argmax confidence is >= 1 / num_classes, so the estimate can
        # reach bin 0 only with fewer bins than classes; keep it positive
        # so that p / k stays finite.
        normalizers[c] = max(
            _percentile_of_histogram(counts, 1.0 - portion),
            0.5 / num_bins)
    return normalizers


def apply_class_balanced(prob: np.ndarray,
                         normalizers: np.ndarray) -> np.ndarray:
    """CBST pseudo label: ``argmax_c p_c / k_c`` where its value is >= 1.

    Ties go to the lower class index (as ``numpy.argmax``). The class
    scores are divided one class at a time, so memory stays at a few
    ``H x W`` arrays whatever the number of classes.

    Args:
        prob (np.ndarray): ``C x H x W`` class probabilities.
        normalizers (np.ndarray): ``C`` positive normalizers ``k_c``
            (:func:`class_balanced_normalizers`).

    Returns:
        np.ndarray: ``H x W`` uint8 train ids, 255 = ignore.
    """
    prob = np.asarray(prob)
    normalizers = np.asarray(normalizers, dtype=np.float64)
    if prob.shape[0] != normalizers.shape[0]:
        raise ValueError(
            f'prob has {prob.shape[0]} classes but normalizers has '
            f'{normalizers.shape[0]}; pass one k_c per class of prob.')
    best = np.full(prob.shape[1:], -np.inf)
    label = np.zeros(prob.shape[1:], np.uint8)
    for c in range(prob.shape[0]):
        ratio = prob[c].astype(np.float64) / normalizers[c]
        better = ratio > best
        best[better] = ratio[better]
        label[better] = c
    label[best < 1.0] = IGNORE_INDEX
    return label
