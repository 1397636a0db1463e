"""mIoU16 / mIoU13 beside mIoU19, against a hand computation."""
import numpy as np
import pytest
import torch
from mmseg.datasets import CityscapesDataset
from mmseg.registry import METRICS

import mmseg_fdacl  # noqa: F401
from mmseg_fdacl.evaluation import (SYNTHIA_13_CLASSES, SYNTHIA_16_CLASSES,
                                    ClassSubsetIoUMetric)

CLASSES = CityscapesDataset.METAINFO['classes']


def _sample(pred, label):
    return dict(pred_sem_seg=dict(data=torch.as_tensor(pred)[None]),
                gt_sem_seg=dict(data=torch.as_tensor(label)[None]))


def _hand_iou(preds, labels, c):
    inter = sum(((p == c) & (g == c) & (g != 255)).sum()
                for p, g in zip(preds, labels))
    union = sum((((p == c) | (g == c)) & (g != 255)).sum()
                for p, g in zip(preds, labels))
    return np.nan if union == 0 else inter / union


def test_subsets_match_hand_computation():
    rng = np.random.default_rng(0)
    labels = [rng.integers(0, 19, (20, 30)) for _ in range(3)]
    labels[0][:2] = 255
    # Predictions right 60% of the time, never terrain (9) or train (16).
    preds = [np.where(rng.random(g.shape) < 0.6, g, rng.integers(0, 19,
                                                                 g.shape))
             for g in labels]
    for p in preds:
        p[np.isin(p, [9, 16])] = 0
    for g in labels:  # no bus (15) in the labels; predicted sometimes
        g[g == 15] = 0
    metric = METRICS.build(dict(type='ClassSubsetIoUMetric'))
    metric.dataset_meta = dict(classes=CLASSES)
    metric.process({}, [_sample(p, g) for p, g in zip(preds, labels)])
    out = metric.evaluate(3)
    iou = np.array([_hand_iou(preds, labels, c) for c in range(19)])
    idx16 = [CLASSES.index(c) for c in SYNTHIA_16_CLASSES]
    idx13 = [CLASSES.index(c) for c in SYNTHIA_13_CLASSES]
    assert len(idx16) == 16 and len(idx13) == 13
    assert {CLASSES[i] for i in set(idx16) - set(idx13)} == {
        'wall', 'fence', 'pole'}
    assert iou[15] == 0  # predicted, never labeled: 0, not NaN
    assert out['mIoU'] == pytest.approx(100 * np.nanmean(iou), abs=0.006)
    assert out['mIoU16'] == pytest.approx(100 * np.mean(iou[idx16]),
                                          abs=0.006)
    assert out['mIoU13'] == pytest.approx(100 * np.mean(iou[idx13]),
                                          abs=0.006)
    assert out['mIoU16'] != out['mIoU13'] != out['mIoU']


def test_custom_subsets_and_errors():
    metric = ClassSubsetIoUMetric(class_subsets=dict(mIoU2=['road', 'sky']))
    metric.dataset_meta = dict(classes=CLASSES)
    g = np.zeros((4, 4), int)
    g[2:] = 10
    p = g.copy()
    p[0, 0] = 10  # road: 7/8, sky: 8/9
    metric.process({}, [_sample(p, g)])
    out = metric.evaluate(1)
    assert out['mIoU2'] == pytest.approx(100 * (7 / 8 + 8 / 9) / 2, abs=0.006)
    bad = ClassSubsetIoUMetric(class_subsets=dict(x=['road', 'tree']))
    bad.dataset_meta = dict(classes=CLASSES)
    bad.process({}, [_sample(p, g)])
    with pytest.raises(ValueError, match=r"'x'.*\['tree'\]"):
        bad.evaluate(1)
    with pytest.raises(ValueError, match='preset'):
        ClassSubsetIoUMetric(class_subsets='gta')
    with pytest.raises(ValueError, match='new name'):
        ClassSubsetIoUMetric(class_subsets=dict(mIoU=['road']))
