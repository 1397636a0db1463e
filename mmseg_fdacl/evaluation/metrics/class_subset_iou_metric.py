"""mIoU over subsets of the classes beside the full mean (SYNTHIA's 16/13).

A model adapted from SYNTHIA is scored on Cityscapes' 19 classes, but
SYNTHIA labels only 16 of them (no terrain, truck, train), so the field
reports the mean IoU over those 16 and, for older methods, over 13 (also
without wall, fence, pole); e.g. DACS (Tranheden et al., WACV 2021) and
DAFormer (Hoyer et al., CVPR 2022) report mIoU16 and mIoU13. HRDA's README
notes that its logs give mIoU19 and that mIoU16 = mIoU19 * 19 / 16 when the
three absent classes score 0; this metric computes the subsets directly.
"""
from typing import Dict, Sequence, Union

import numpy as np
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS

__all__ = ['SYNTHIA_16_CLASSES', 'SYNTHIA_13_CLASSES', 'ClassSubsetIoUMetric']

#: The Cityscapes classes SYNTHIA labels.
SYNTHIA_16_CLASSES = (
    'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
    'traffic sign', 'vegetation', 'sky', 'person', 'rider', 'car', 'bus',
    'motorcycle', 'bicycle')
#: Those without wall, fence and pole.
SYNTHIA_13_CLASSES = tuple(c for c in SYNTHIA_16_CLASSES
                           if c not in ('wall', 'fence', 'pole'))
_PRESETS = dict(synthia=dict(mIoU16=SYNTHIA_16_CLASSES,
                             mIoU13=SYNTHIA_13_CLASSES))


@METRICS.register_module()
class ClassSubsetIoUMetric(IoUMetric):
    """MMSeg's :class:`~mmseg.evaluation.IoUMetric` plus subset means.

    The per-class IoU comes from ``IoUMetric.total_area_to_metrics`` on the
    same accumulated areas; each subset's value is the mean over its
    classes, NaNs (a class neither labeled nor predicted) left out as in
    ``mIoU``, in percent rounded to two decimals like ``mIoU``.

    Args:
        class_subsets (dict | str): ``{metric name: class names}``, or the
            preset ``'synthia'`` (``mIoU16`` and ``mIoU13``).
            Default: 'synthia'.
        **kwargs: Passed to ``IoUMetric`` (``iou_metrics`` must include
            ``'mIoU'``).

    Raises:
        ValueError: For an unknown preset, an empty subset, or a subset name
            that collides with IoUMetric's keys; at evaluation, for a class
            the dataset does not have.
    """

    def __init__(self,
                 class_subsets: Union[str, Dict[str, Sequence[str]]] =
                 'synthia',
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(class_subsets, str):
            if class_subsets not in _PRESETS:
                raise ValueError(
                    f'ClassSubsetIoUMetric: unknown class_subsets preset '
                    f'{class_subsets!r}; the presets are {sorted(_PRESETS)}, '
                    'or give {name: [class names]}.')
            class_subsets = _PRESETS[class_subsets]
        if not isinstance(class_subsets, dict) or not class_subsets:
            raise ValueError('ClassSubsetIoUMetric: `class_subsets` must be a '
                             'non-empty dict {metric name: [class names]}, '
                             f'got {class_subsets!r}.')
        if 'mIoU' not in self.metrics:
            raise ValueError('ClassSubsetIoUMetric needs "mIoU" in '
                             f'iou_metrics, got {self.metrics!r}.')
        for name, classes in class_subsets.items():
            if name in ('aAcc', 'mIoU', 'mAcc', 'mDice', 'mFscore',
                        'mPrecision', 'mRecall') or not classes:
                raise ValueError(
                    f'ClassSubsetIoUMetric: subset {name!r} must have a new '
                    f'name and at least one class, got {list(classes)!r}.')
        self.class_subsets = {k: tuple(v) for k, v in class_subsets.items()}

    def compute_metrics(self, results: list) -> Dict[str, float]:
        """IoUMetric's metrics plus one mean IoU per subset."""
        metrics = super().compute_metrics(results)
        if self.format_only:
            return metrics
        areas = [sum(r) for r in zip(*results)]
        per_class = self.total_area_to_metrics(
            *areas, ['mIoU'], self.nan_to_num, self.beta)['IoU']
        per_class = np.asarray(per_class, np.float64)
        names = list(self.dataset_meta['classes'])
        for key, subset in self.class_subsets.items():
            missing = [c for c in subset if c not in names]
            if missing:
                raise ValueError(
                    f'ClassSubsetIoUMetric: subset {key!r} names classes '
                    f'{missing} that the dataset does not have ({names}).')
            idx = [names.index(c) for c in subset]
            metrics[key] = self._mean(per_class[idx])
        return metrics

    @staticmethod
    def _mean(values: np.ndarray) -> float:
        # As IoUMetric's summary: nanmean, percent, two decimals.
        return np.round(np.nanmean(values) * 100, 2)
