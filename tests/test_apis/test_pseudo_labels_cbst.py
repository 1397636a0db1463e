"""Class-balanced pseudo-label selection (CBST, ``selection='cbst'``).

The rule (Zou et al., ECCV 2018): per class ``c``, ``k_c`` is the confidence
at the top-``portion`` quantile of the pixels predicted as ``c``; the label
is ``argmax_c p_c / k_c`` where ``max_c p_c / k_c >= 1``, else 255. Tested
by hand on a case where it recovers a class that the plain argmax (and FDA's
rule) loses, against brute-force numpy, end to end against brute-force
probabilities, for settings compatibility, and through the command line.
"""
import json
import os.path as osp

import numpy as np
import pytest

from mmseg_fdacl.pseudo_labels import (PseudoLabelSettingsError,
                                       apply_class_balanced, apply_thresholds,
                                       class_balanced_normalizers,
                                       confidence_histogram,
                                       thresholds_from_histograms)
from tests.test_apis.test_pseudo_labels import (_brute_force_probs, data,
                                                mtimes, read_pngs, run)
from tests.test_tools.test_generate_pseudo_labels import _load_tool, setup

__all__ = ['data', 'setup']  # fixtures, imported for pytest

NUM_BINS = 1000
A, B, C = 0, 1, 2


def _hand_case():
    """Ten pixels of three classes (``C x 1 x 10`` scores) and the truth.

    Class A: three pixels at 0.99, one at 0.7, and two ambiguous pixels
    (0.5 A, 0.45 B) whose truth is B. Class B: two pixels at 0.5 and two at
    0.36. Class C: never the argmax.
    """
    pixels = [
        ((0.99, 0.005, 0.005), A), ((0.99, 0.005, 0.005), A),
        ((0.99, 0.005, 0.005), A), ((0.7, 0.15, 0.15), A),
        ((0.5, 0.45, 0.05), B), ((0.5, 0.45, 0.05), B),
        ((0.1, 0.5, 0.4), B), ((0.1, 0.5, 0.4), B),
        ((0.31, 0.36, 0.33), B), ((0.31, 0.36, 0.33), B),
    ]
    prob = np.array([p for p, _ in pixels], np.float32).T[:, None, :]
    truth = np.array([[t for _, t in pixels]])
    return prob, truth


def test_cbst_recovers_a_class_the_argmax_loses():
    prob, truth = _hand_case()
    pred, conf = prob.argmax(0), prob.max(0)
    hist = confidence_histogram(pred, conf, 3, NUM_BINS)
    # Portion 0.5 keeps the upper half of each class: k_A is the median of
    # A's confidences (0.5, 0.5, 0.7, 0.99, 0.99, 0.99) = (0.7 + 0.99) / 2,
    # k_B that of B's (0.36, 0.36, 0.5, 0.5) = 0.43; C was never predicted.
    k = class_balanced_normalizers(hist, portion=0.5)
    np.testing.assert_allclose(k, [0.845, 0.43, 1.0], atol=1.0 / NUM_BINS)
    label = apply_class_balanced(prob, k)[0]
    # 0.99 / 0.845 >= 1: A. 0.7 / 0.845 < 1: ignored. Ambiguous: A gives
    # 0.5 / 0.845 = 0.59 but B 0.45 / 0.43 = 1.05: B, the truth. B at 0.5:
    # 1.16, B. B at 0.36: 0.84 (A 0.37, C 0.33): ignored.
    assert label.tolist() == [A, A, A, 255, B, B, B, B, 255, 255]
    # The plain argmax calls the ambiguous pixels A, and FDA's rule (66th
    # percentile, cap 0.9) drops them: only CBST labels them, as B.
    assert pred[0, 4:6].tolist() == [A, A]
    fda = apply_thresholds(pred, conf,
                           thresholds_from_histograms(hist, 0.66, 0.9))[0]
    assert fda[4:6].tolist() == [255, 255]
    assert (label == truth[0])[label != 255].all()
    assert (label == B).sum() == 4 and (fda == B).sum() == 2


def test_normalizers_match_brute_force_percentiles():
    rng = np.random.default_rng(0)
    num_classes = 5
    preds, confs = [], []
    hist = np.zeros((num_classes, NUM_BINS), np.int64)
    for _ in range(4):  # images: histograms are summed, as over a data set
        pred = rng.integers(0, num_classes - 1, size=(40, 50))  # class 4 empty
        conf = rng.beta(2 + pred, 2, size=pred.shape)
        preds.append(pred)
        confs.append(conf)
        hist += confidence_histogram(pred, conf, num_classes, NUM_BINS)
    pred, conf = np.concatenate(preds), np.concatenate(confs)
    for portion in (0.05, 0.2, 0.5, 0.8, 1.0):
        k = class_balanced_normalizers(hist, portion)
        for c in range(num_classes - 1):
            exact = np.percentile(conf[pred == c], 100 * (1 - portion))
            assert abs(k[c] - exact) <= 1.0 / NUM_BINS, (portion, c)
            # Each class keeps its top `portion` of pixels (up to one bin).
            kept = (conf[pred == c] >= exact).mean()
            assert abs(kept - portion) <= 1.0 / (pred == c).sum()
        assert k[num_classes - 1] == 1.0  # no pixel: CBST's code's 1.0


def test_apply_class_balanced_matches_numpy_argmax():
    rng = np.random.default_rng(1)
    prob = rng.dirichlet(np.ones(6) * 0.5, size=(30, 40)).transpose(2, 0, 1)
    k = rng.uniform(0.2, 0.9, size=6)
    label = apply_class_balanced(prob.astype(np.float32), k)
    ratio = prob.astype(np.float32).astype(np.float64) / k[:, None, None]
    expected = ratio.argmax(0).astype(np.uint8)
    expected[ratio.max(0) < 1] = 255
    assert label.dtype == np.uint8
    np.testing.assert_array_equal(label, expected)
    assert 0 < (label == 255).sum() < label.size
    with pytest.raises(ValueError, match='normalizers'):
        apply_class_balanced(prob, k[:5])


def test_end_to_end_matches_brute_force(data, tmp_path):
    out = tmp_path / 'out'
    manifest = run(data, out, ckpts=data['ckpts'], beta=None,
                   selection='cbst', portion=0.3)
    settings = manifest['settings']
    assert settings['selection'] == 'cbst' and settings['portion'] == 0.3
    assert settings['percentile'] is None and settings['cap'] is None
    probs = _brute_force_probs(data, data['ckpts'])
    pngs = read_pngs(out)
    assert sorted(pngs) == sorted(probs)
    conf = np.concatenate([p.max(0).ravel() for p in probs.values()])
    pred = np.concatenate([p.argmax(0).ravel() for p in probs.values()])
    k = np.ones(19)
    for c in np.unique(pred):
        k[c] = np.percentile(conf[pred == c], 70)
    np.testing.assert_allclose(manifest['thresholds'], k,
                               atol=1.0 / NUM_BINS)
    stored = np.asarray(manifest['thresholds'])
    prob = np.concatenate([p.reshape(19, -1) for p in probs.values()], 1)
    ratio = prob.astype(np.float64) / stored[:, None]
    top2 = np.sort(ratio, axis=0)[-2:]
    expected = ratio.argmax(0)
    expected[top2[1] < 1] = 255
    label = np.concatenate([pngs[name].ravel() for name in probs])
    # Pixels whose decision is a float rounding away from a tie may differ.
    margin = (np.abs(top2[1] - 1) > 1e-5) & (top2[1] - top2[0] > 1e-5)
    assert margin.mean() > 0.99
    np.testing.assert_array_equal(label[margin], expected[margin])
    assert 0 < (label == 255).sum() < label.size
    # CBST relabels some pixels away from the plain argmax.
    labeled = label != 255
    assert (label[labeled] != pred[labeled]).any()
    assert json.load(open(out / 'manifest.json')) == manifest


def test_settings_compatible_and_refused(data, tmp_path):
    out = tmp_path / 'fda'
    manifest = run(data, out)
    # FDA's rule stores no selection keys: the hash of folders made before
    # the option (the golden test pins it) stays the same.
    assert 'selection' not in manifest['settings']
    assert 'portion' not in manifest['settings']
    before = mtimes(out)
    written = []
    again = run(data, out, selection='fda', portion=0.7,
                image_callback=lambda i, p: written.append(p))
    assert again['settings_hash'] == manifest['settings_hash']
    assert not written and mtimes(out) == before
    with pytest.raises(PseudoLabelSettingsError, match='selection'):
        run(data, out, selection='cbst')
    cbst = tmp_path / 'cbst'
    run(data, cbst, selection='cbst', portion=0.2)
    with pytest.raises(PseudoLabelSettingsError, match='portion'):
        run(data, cbst, selection='cbst', portion=0.5)
    assert osp.isfile(osp.join(str(cbst), 'manifest.json'))


@pytest.mark.parametrize('kwargs, name', [
    (dict(selection='CBST'), 'selection'),
    (dict(selection='cbst', portion=0.0), 'portion'),
    (dict(selection='cbst', portion=1.5), 'portion'),
    (dict(selection='cbst', threshold=0.5), 'threshold'),
])
def test_invalid_selection_named(data, tmp_path, kwargs, name):
    with pytest.raises(ValueError, match=name):
        run(data, tmp_path / 'out', **kwargs)
    assert not osp.exists(str(tmp_path / 'out'))


def test_tool_selection_flags(setup, capsys):
    tool = _load_tool()
    args = tool.parse_args(['cfg.py', 'a.pth', '--out', 'o'])
    assert args.selection == 'fda' and args.portion == 0.2
    with pytest.raises(SystemExit):
        tool.parse_args(['cfg.py', 'a.pth', '--out', 'o', '--selection', 'x'])
    out = str(setup['root'] / 'pl_cbst')
    manifest = tool.main([
        setup['config'], setup['ckpts'][0], '--out', out, '--selection',
        'cbst', '--portion', '0.4'
    ])
    printed = capsys.readouterr().out
    assert manifest['complete']
    assert manifest['settings']['selection'] == 'cbst'
    assert manifest['settings']['portion'] == 0.4
    assert 'class normalizers k_c' in printed
    assert 'coverage %' in printed and 'IoU all pixels' in printed
