"""Quality of a finished set: IoU against the target ground truth."""
import os.path as osp
from typing import Optional, Tuple

import cv2
import numpy as np
import torch

from mmseg_fdacl.datasets.label_ids import IGNORE_INDEX
from mmseg_fdacl.utils import pseudo_label_path
from .files import DatasetLike, file_list, target_items

__all__ = ['evaluate_pseudo_labels']


def _read_pair(img_path: str, gt_path: str, root: str,
               label_dir: str) -> Tuple[np.ndarray, np.ndarray]:
    """``(pseudo label, ground truth)`` of one image, checked to match.

    Raises:
        FileNotFoundError: The pseudo label is missing.
        ValueError: The two differ in size.
    """
    gt = cv2.imread(gt_path, cv2.IMREAD_UNCHANGED)
    png = pseudo_label_path(img_path, root, label_dir)
    label = cv2.imread(png, cv2.IMREAD_UNCHANGED)
    if label is None:
        raise FileNotFoundError(f'pseudo label {png!r} of {img_path!r} '
                                'is missing; generate the set first.')
    if label.shape != gt.shape:
        raise ValueError(
            f'pseudo label {png!r} is {label.shape} but the ground truth '
            f'{gt_path!r} is {gt.shape}; pseudo labels are written at '
            'the image size, so the image and its ground truth differ.')
    return label, gt


def evaluate_pseudo_labels(label_dir: str,
                           target_dataset: DatasetLike,
                           num_classes: Optional[int] = None
                           ) -> Optional[dict]:
    """IoU of pseudo labels against the target ground truth, where it exists.

    Only **labeled** pseudo-label pixels are scored: ground truth under a
    255 pseudo label is ignored, as in the reference "Pseudo Labels" row
    (quality of the labels stage 2 trains on). ``coverage`` says which share
    of the ground-truth pixels received a label, ``class_coverage`` the same
    per ground-truth class. ``iou_all`` scores every ground-truth pixel, a
    255 pseudo label counting as a miss of its class: it falls when labels
    are withheld as well as when they are wrong. Uses MMSeg's
    ``IoUMetric.intersect_and_union`` / ``total_area_to_metrics``.

    Args:
        label_dir (str): Pseudo-label folder.
        target_dataset (dict | BaseDataset): The target set; its
            ``seg_map_path`` entries (e.g. ``gtFine/train`` labelTrainIds)
            are the ground truth.
        num_classes (int, optional): Default: the dataset's class count.

    Returns:
        dict | None: ``classes``, ``iou`` (per class, %, NaN where a class
        is in neither map), ``miou`` (%), ``coverage`` (%),
        ``class_coverage`` (per class, %, NaN where the ground truth lacks
        the class), ``iou_all`` and ``miou_all`` (%, every ground-truth
        pixel scored), ``num_images``; None when no ground truth exists.
    """
    # Imported here: mmseg.evaluation is not needed to make pseudo labels.
    from mmseg.evaluation import IoUMetric
    target = file_list(target_dataset, 'target_dataset')
    classes = list(target.metainfo.get('classes', ()))
    num_classes = num_classes or len(classes)
    totals = [torch.zeros(num_classes, dtype=torch.float64) for _ in range(4)]
    gt_valid = labeled = 0
    gt_class = np.zeros(num_classes, np.int64)
    gt_class_labeled = np.zeros(num_classes, np.int64)
    num_images = 0
    for _, img_path, gt_path, root in target_items(target):
        if not gt_path or not osp.isfile(gt_path):
            continue
        label, gt = _read_pair(img_path, gt_path, root, label_dir)
        valid = gt != IGNORE_INDEX
        gt_valid += int(valid.sum())
        labeled += int((valid & (label != IGNORE_INDEX)).sum())
        gt_class += np.bincount(
            gt[valid].ravel(), minlength=num_classes)[:num_classes]
        gt_class_labeled += np.bincount(
            gt[valid & (label != IGNORE_INDEX)].ravel(),
            minlength=num_classes)[:num_classes]
        scored = gt.copy()
        scored[label == IGNORE_INDEX] = IGNORE_INDEX
        areas = IoUMetric.intersect_and_union(
            torch.from_numpy(label.astype(np.int64)),
            torch.from_numpy(scored.astype(np.int64)), num_classes,
            IGNORE_INDEX)
        for t, a in zip(totals, areas):
            t += a.double()
        num_images += 1
    if num_images == 0:
        return None
    # Despite its annotations, total_area_to_metrics needs torch tensors.
    metrics = IoUMetric.total_area_to_metrics(*totals, metrics=['mIoU'])
    iou = np.asarray(metrics['IoU'], dtype=np.float64) * 100
    # totals: intersection, union, pseudo-label and ground-truth areas over
    # the labeled pixels; every ground-truth pixel counts in iou_all.
    inter, pred_area = totals[0].numpy(), totals[2].numpy()
    union_all = pred_area + gt_class - inter
    with np.errstate(divide='ignore', invalid='ignore'):
        iou_all = np.where(union_all > 0, 100.0 * inter / union_all, np.nan)
        class_coverage = np.where(gt_class > 0,
                                  100.0 * gt_class_labeled / gt_class,
                                  np.nan)
    return dict(
        classes=classes,
        iou=iou.tolist(),
        miou=float(np.nanmean(iou)),
        coverage=100.0 * labeled / max(gt_valid, 1),
        class_coverage=class_coverage.tolist(),
        iou_all=iou_all.tolist(),
        miou_all=float(np.nanmean(iou_all)),
        num_images=num_images)
