"""PerClassIoUMetric: MMSeg's IoU arithmetic, per class, unrounded."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from mmseg.evaluation import IoUMetric

from mmseg_fdacl.demo.evaluation import PerClassIoUMetric


def _sample(pred, gt, name):
    return dict(
        pred_sem_seg=dict(data=torch.tensor(pred)[None]),
        gt_sem_seg=dict(data=torch.tensor(gt)[None]),
        img_path=f'/data/{name}.png')


def test_per_class_iou_and_mean_over_classes_in_the_ground_truth(tmp_path):
    # Class 2 is predicted but absent from the ground truth (IoU 0, left out
    # of the mean); class 3 is neither (None); 255 is ignored.
    gt = [[0, 0, 1, 255], [0, 1, 1, 1]]
    pred = [[0, 1, 1, 2], [0, 1, 2, 1]]
    metric = PerClassIoUMetric(
        pred_dir=str(tmp_path), num_preds=1, iou_metrics=['mIoU'])
    metric.dataset_meta = dict(classes=('a', 'b', 'c', 'd'))
    metric.process({}, [_sample(pred, gt, 'first'), _sample(gt, gt, 'two')])
    out = metric.compute_metrics(metric.results)
    # Intersection / union per image, 1: a 2/3, b 3/5, c 0/1; 2: a 3/3,
    # b 4/4. Correct pixels: 5 of 7, then 7 of 7.
    expected = [100 * 5 / 6, 100 * 7 / 9, 0.0, None]
    assert out['IoU'][:3] == pytest.approx(expected[:3])
    assert out['IoU'][3] is None
    assert out['mIoU'] == pytest.approx((expected[0] + expected[1]) / 2)
    assert out['aAcc'] == pytest.approx(100 * 12 / 14)
    # The same areas through plain IoUMetric give the same per-class IoU.
    areas = [sum(a) for a in zip(*metric.results)]
    ref = np.asarray(
        IoUMetric.total_area_to_metrics(*areas, ['mIoU'])['IoU'])
    assert np.allclose(np.array(out['IoU'][:3]) / 100, ref[:3])
    assert np.isnan(ref[3])
    # Only the first prediction is written, as a train-id PNG.
    saved = cv2.imread(osp.join(tmp_path, 'first.png'), cv2.IMREAD_UNCHANGED)
    np.testing.assert_array_equal(saved, pred)
    assert not osp.exists(osp.join(tmp_path, 'two.png'))
