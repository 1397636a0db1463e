"""ACDC (Sakaridis et al., "ACDC: The Adverse Conditions Dataset with
Correspondences", ICCV 2021) as an MMSeg dataset, read in place.

Layout as extracted from ``rgb_anon_trainvaltest.zip`` and
``gt_trainval.zip``::

    rgb_anon/<condition>/<split>/<sequence>/<frame>_rgb_anon.png
    gt/<condition>/<split>/<sequence>/<frame>_gt_labelTrainIds.png

with conditions fog, night, rain, snow and splits train, val, test (test
labels are private: predictions go to the ACDC server,
:class:`mmseg_fdacl.evaluation.BenchmarkSubmissionMetric`). The 19 classes
are Cityscapes'.
"""
from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS

from .condition_split import ConditionSplitMixin

__all__ = ['ACDC_CONDITIONS', 'ACDCDataset']

ACDC_CONDITIONS = ('fog', 'night', 'rain', 'snow')


@DATASETS.register_module()
class ACDCDataset(ConditionSplitMixin, CityscapesDataset):
    """ACDC: some conditions of one split (default: all four).

    Args:
        split (str): 'train', 'val' or 'test'. Default: 'train'.
        conditions (Sequence[str], optional): Some of fog, night, rain,
            snow. Default: all.
        with_labels (bool, optional): Default: True except for 'test'.
        img_suffix (str): Default: '_rgb_anon.png'.
        seg_map_suffix (str): Default: '_gt_labelTrainIds.png'.
        **kwargs: See :class:`~mmseg_fdacl.datasets.condition_split.
            ConditionSplitMixin` and ``CityscapesDataset``.
    """
    CONDITIONS = ACDC_CONDITIONS
    DEFAULT_CONDITIONS = ACDC_CONDITIONS
    FOLDER = '{condition}/{split}'

    def __init__(self,
                 img_suffix: str = '_rgb_anon.png',
                 seg_map_suffix: str = '_gt_labelTrainIds.png',
                 **kwargs) -> None:
        super().__init__(img_suffix=img_suffix,
                         seg_map_suffix=seg_map_suffix, **kwargs)
