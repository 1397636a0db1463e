"""Dark Zurich (Sakaridis et al., "Guided Curriculum Model Adaptation and
Uncertainty-Aware Evaluation for Semantic Nighttime Image Segmentation",
ICCV 2019) read in place, on MMSeg's ``DarkZurichDataset`` (its suffixes).

Layout as extracted from ``Dark_Zurich_train_anon.zip``,
``Dark_Zurich_val_anon.zip`` and the test archive::

    rgb_anon/train/{day,twilight,night}/<sequence>/<frame>_rgb_anon.png
    rgb_anon/{val,test}/night/<sequence>/<frame>_rgb_anon.png
    gt/val/night/<sequence>/<frame>_gt_labelTrainIds.png

Adaptation trains on ``rgb_anon/train/night`` (DAFormer, HRDA); val has 50
labeled frames, the test labels are private (predictions go to the Dark
Zurich server, :class:`mmseg_fdacl.evaluation.BenchmarkSubmissionMetric`).
"""
from mmseg.datasets import DarkZurichDataset
from mmseg.registry import DATASETS

from .condition_split import ConditionSplitMixin

__all__ = ['DARK_ZURICH_CONDITIONS', 'DarkZurichConditionDataset']

DARK_ZURICH_CONDITIONS = ('day', 'twilight', 'night')


@DATASETS.register_module()
class DarkZurichConditionDataset(ConditionSplitMixin, DarkZurichDataset):
    """Dark Zurich: some conditions of one split (default: night).

    Args:
        split (str): 'train', 'val' or 'test'. Default: 'train'.
        conditions (Sequence[str], optional): Some of day, twilight, night
            (val and test hold night only). Default: ('night', ).
        with_labels (bool, optional): Default: True for 'val' only (train
            has no labels, test labels are private).
        **kwargs: See :class:`~mmseg_fdacl.datasets.condition_split.
            ConditionSplitMixin` and MMSeg's ``DarkZurichDataset``.
    """
    CONDITIONS = DARK_ZURICH_CONDITIONS
    DEFAULT_CONDITIONS = ('night', )
    LABELED_SPLITS = ('val', )
    FOLDER = '{split}/{condition}'
