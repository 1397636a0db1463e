"""The pseudo-label report (mmseg_fdacl.pseudo_labels.report): per class the
share predicted against the share kept, and the flag of a class the model
predicts but the labels (nearly) never keep.

Hand-made cases: counts written by hand, and a predictor replaced by one
whose prediction is fixed (class 0 confident on the left half of every
image, class 1 unsure on the right half), so that a global threshold keeps
class 0 and drops class 1.
"""
import glob
import json
import logging
import os.path as osp

import numpy as np
import pytest

from mmseg_fdacl.pseudo_labels import predictor as predictor_module
from mmseg_fdacl.pseudo_labels import report as report_module
from mmseg_fdacl.pseudo_labels.report import (FLAG_RATIO, REPORT_NAME,
                                              PredictionTally,
                                              class_share_report, log_flag,
                                              predicted_counts, read_report)
from tests.test_apis.test_pseudo_labels import data, run  # noqa: F401
from tests.test_engine.test_pseudo_label_hook import _cfg, _train
from tests.test_engine.test_pseudo_label_hook import data as hook_data  # noqa: F401,E501

NAMES = ['road', 'sidewalk', 'car', 'rider']


def test_flag_fires_on_a_class_predicted_but_never_kept():
    # car: 20% of the predictions, none of the kept labels.
    r = class_share_report([500, 300, 200, 0], [250, 150, 0, 0], NAMES)
    assert r['flagged'] == ['car']
    np.testing.assert_allclose(r['predicted_share'], [0.5, 0.3, 0.2, 0.0])
    np.testing.assert_allclose(r['kept_share'], [0.625, 0.375, 0.0, 0.0])
    np.testing.assert_allclose(r['ratio'][:3], [1.25, 1.25, 0.0])
    np.testing.assert_allclose(r['kept_fraction'][:3], [0.5, 0.5, 0.0])
    assert r['ratio'][3] is None and r['kept_fraction'][3] is None
    # The consequence is spelled out.
    assert 'car' in r['consequence']
    assert 'contrastive term' in r['consequence']
    assert 'into the' in r['consequence']


def test_flag_does_not_fire_otherwise():
    # Every class kept in proportion, however few pixels are kept overall.
    for keep in (1.0, 0.3, 0.01):
        pred = np.array([5000, 3000, 2000, 0])
        r = class_share_report(pred, (pred * keep).astype(int), NAMES)
        assert r['flagged'] == [] and r['consequence'] is None
    # Kept a little above a tenth of its predicted share: not flagged.
    r = class_share_report([450, 450, 100, 0], [90, 90, 2, 0], NAMES)
    assert r['ratio'][2] == pytest.approx((2 / 182) / 0.1)
    assert r['ratio'][2] > FLAG_RATIO and r['flagged'] == []
    # A class never predicted, or predicted on < 0.1% of the pixels, and
    # never kept: not flagged (the model does not predict it).
    r = class_share_report([6000, 3995, 5, 0], [3000, 2000, 0, 0], NAMES)
    assert r['flagged'] == []
    r = class_share_report([6000, 3985, 15, 0], [3000, 2000, 0, 0], NAMES)
    assert r['flagged'] == ['car']


def test_flag_order_and_rule_arguments():
    r = class_share_report([100, 400, 500, 0], [0, 0, 500, 0], NAMES)
    assert r['flagged'] == ['sidewalk', 'road']  # most predicted first
    # A looser rule flags a class kept at half its predicted share.
    r = class_share_report([500, 500, 0, 0], [700, 300, 0, 0], NAMES)
    assert r['flagged'] == []
    assert class_share_report([500, 500, 0, 0], [700, 300, 0, 0], NAMES,
                              flag_ratio=0.7)['flagged'] == ['sidewalk']
    for kwargs, match in ((dict(flag_ratio=0), 'flag_ratio'),
                          (dict(min_predicted_share=1), 'min_predicted')):
        with pytest.raises(ValueError, match=match):
            class_share_report([1, 1, 1, 1], [1, 1, 1, 1], NAMES, **kwargs)
    with pytest.raises(ValueError, match='one length'):
        class_share_report([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match='>= 0'):
        class_share_report([1, -2], [1, 2])


def test_counts_are_bincounts():
    rng = np.random.default_rng(0)
    pred = rng.integers(0, 5, (3, 17, 23))
    got = predicted_counts(pred, 7)
    assert got.tolist() == [int((pred == c).sum()) for c in range(7)]
    tally = PredictionTally(7)
    for image in pred:
        tally.add(image)
    tally.reduce(lambda a: a * 2)  # two ranks with the same images
    assert tally.counts.tolist() == (2 * got).tolist() and tally.images == 6


def _fixed_prediction(monkeypatch):
    """Every image: class 0 at confidences 0.9-1.0 on the left half, class 1
    at 0.25-0.35 on the right half (the hand-made case)."""

    def call(self, img_path, index):
        h, w = 32, 64
        pred = np.zeros((h, w), np.uint8)
        pred[:, w // 2:] = 1
        spread = np.linspace(0.0, 0.1, h * w // 2, dtype=np.float32)
        conf = np.empty((h, w), np.float32)
        conf[:, :w // 2] = 0.9 + spread.reshape(h, w // 2)
        conf[:, w // 2:] = 0.25 + spread.reshape(h, w // 2)
        return pred, conf

    monkeypatch.setattr(predictor_module.Predictor, '__call__', call)


def _logged(monkeypatch):
    """The (message, level) pairs the report module logs."""
    logged = []
    monkeypatch.setattr(
        report_module, 'print_log',
        lambda msg, logger=None, level=logging.INFO: logged.append(
            (msg, level)))
    return logged


def test_generation_writes_and_logs_the_flag(data, tmp_path,  # noqa: F811
                                             monkeypatch):
    _fixed_prediction(monkeypatch)
    logged = _logged(monkeypatch)
    # A global threshold of 0.5 keeps class 0 (road) and never class 1
    # (sidewalk).
    manifest = run(data, tmp_path / 'strict', threshold=0.5)
    report = read_report(str(tmp_path / 'strict'))
    assert osp.isfile(osp.join(str(tmp_path / 'strict'), REPORT_NAME))
    assert report['flagged'] == ['sidewalk']
    half = 6 * 32 * 32
    assert report['predicted_pixels'][:2] == [half, half]
    assert report['kept_pixels'][:2] == [half, 0]
    assert report['predicted_source'] == 'label pass, 6 of 6 images'
    assert report['kept_pixels'] == manifest['labelled_pixels']
    warnings = [m for m, lvl in logged if lvl == logging.WARNING]
    assert len(warnings) == 1 and 'sidewalk' in warnings[0]
    assert 'never keep' in warnings[0]
    assert any('sidewalk' in m and '<- flagged' in m for m, _ in logged)
    logged.clear()
    # FDA's per-class rule keeps a third of each class: no flag; the
    # predicted counts then come from the histogram pass.
    run(data, tmp_path / 'fda')
    report = read_report(str(tmp_path / 'fda'))
    assert report['flagged'] == []
    assert report['predicted_source'].startswith('histogram pass')
    assert report['predicted_pixels'][:2] == [half, half]
    assert [lvl for _, lvl in logged] == [logging.INFO]
    assert 'no class flagged' in logged[0][0]
    # A threshold below every confidence keeps everything: no flag.
    run(data, tmp_path / 'loose', threshold=0.2)
    assert read_report(str(tmp_path / 'loose'))['flagged'] == []


def test_log_flag_without_report_uses_the_manifest(data, tmp_path,  # noqa: F811,E501
                                                   monkeypatch):
    _fixed_prediction(monkeypatch)
    out = tmp_path / 'fda'
    run(data, out)  # FDA's rule: no flag
    (out / REPORT_NAME).unlink()
    logged = _logged(monkeypatch)
    report = log_flag(str(out))
    assert report['flagged'] == []
    assert len(logged) == 1 and 'no class flagged' in logged[0][0]
    assert log_flag(str(tmp_path / 'none')) is None


def test_stage2_start_logs_the_flag(hook_data, tmp_path,  # noqa: F811
                                    monkeypatch):
    _fixed_prediction(monkeypatch)
    hook = dict(type='PseudoLabelHook', checkpoints=hook_data['ckpt'],
                threshold=0.5)
    _train(_cfg(hook_data, tmp_path / 'work', hook, max_iters=1))
    logs = glob.glob(str(tmp_path / 'work' / '*' / '*.log'))
    text = ''.join(open(f).read() for f in logs)
    assert 'WARNING' in text and 'sidewalk' in text
    assert 'the contrastive term has no anchors' in text
    out = osp.join(str(tmp_path / 'work'), 'pseudo_labels')
    assert json.load(open(osp.join(out, REPORT_NAME)))['flagged'] == [
        'sidewalk'
    ]
