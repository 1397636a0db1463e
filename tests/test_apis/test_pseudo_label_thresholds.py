"""Tests of mmseg_fdacl.pseudo_labels.thresholds: the math vs brute force."""
import numpy as np

from mmseg_fdacl.pseudo_labels import (apply_thresholds,
                                       confidence_histogram,
                                       thresholds_from_histograms)

NUM_BINS = 1000


def test_thresholds_match_brute_force_percentiles():
    rng = np.random.default_rng(0)
    num_classes = 5
    preds, confs = [], []
    hist = np.zeros((num_classes, NUM_BINS), np.int64)
    for _ in range(4):  # images: histograms are summed, as over a data set
        pred = rng.integers(0, num_classes - 1, size=(40, 50))  # class 4 empty
        conf = rng.beta(2 + pred, 2, size=pred.shape)  # class-dependent
        preds.append(pred)
        confs.append(conf)
        hist += confidence_histogram(pred, conf, num_classes, NUM_BINS)
    pred, conf = np.concatenate(preds), np.concatenate(confs)
    for p in (0.0, 0.1, 0.5, 0.66, 0.9):
        thr = thresholds_from_histograms(hist, percentile=p, cap=1.0)
        for c in range(num_classes - 1):
            exact = np.percentile(conf[pred == c], 100 * p)
            assert abs(thr[c] - exact) <= 1.0 / NUM_BINS, (p, c)
        assert thr[num_classes - 1] == 1.0  # no pixel: threshold = cap


def test_cap_applies():
    conf = np.full((10, 10), 0.99)
    conf[0, :5] = 0.2
    pred = np.zeros((10, 10), np.int64)
    hist = confidence_histogram(pred, conf, 2, NUM_BINS)
    assert thresholds_from_histograms(hist, 0.66, cap=0.9)[0] == 0.9
    assert thresholds_from_histograms(hist, 0.66, cap=1.0)[0] > 0.98
    assert thresholds_from_histograms(hist, 0.0, cap=0.9)[0] < 0.21


def test_apply_thresholds_ignores_exactly_below_threshold():
    rng = np.random.default_rng(1)
    pred = rng.integers(0, 3, size=(20, 30))
    conf = rng.random((20, 30))
    thr = np.array([0.2, 0.5, 0.8])
    label = apply_thresholds(pred, conf, thr)
    assert label.dtype == np.uint8
    below = conf < thr[pred]
    assert (label[below] == 255).all()
    assert (label[~below] == pred[~below]).all()
    glob_label = apply_thresholds(pred, conf, 0.5)
    assert ((glob_label == 255) == (conf < 0.5)).all()


def test_a_class_in_one_bin_keeps_its_labels():
    # numpy.percentile of a class's confidences never exceeds their maximum,
    # so FDA's rule always keeps the class's most confident pixels; an
    # estimate inside the class's top bin could exceed them all (here every
    # pixel of class 0 has the same confidence, FDA keeps all of them).
    from mmseg_fdacl.pseudo_labels import (apply_class_balanced,
                                           class_balanced_normalizers)
    pred = np.zeros((4, 4), np.int64)
    pred[0] = 1
    conf = np.full((4, 4), 0.5003)
    conf[0] = np.linspace(0.3, 0.8, 4)
    hist = confidence_histogram(pred, conf, 2, NUM_BINS)
    thr = thresholds_from_histograms(hist, 0.66, cap=0.9)
    exact = np.percentile(conf[pred == 0], 66)
    assert thr[0] <= exact and exact - thr[0] <= 1.0 / NUM_BINS
    label = apply_thresholds(pred, conf, thr)
    assert (label[pred == 0] == 0).all()
    # class 1's values are spread over several bins: still within one bin
    assert abs(thr[1] - np.percentile(conf[pred == 1], 66)) <= 1.0 / NUM_BINS
    # CBST's normalizer: at most the class's largest probability, so the
    # class can be labeled (CBST takes an order statistic, a real value)
    prob = np.stack([np.where(pred == 0, conf, 1 - conf),
                     np.where(pred == 1, conf, 1 - conf)]).astype(np.float64)
    k = class_balanced_normalizers(hist, portion=0.2)
    assert k[0] <= 0.5003
    assert (apply_class_balanced(prob, k)[pred == 0] == 0).all()
