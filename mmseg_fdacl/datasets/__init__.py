"""Datasets registered into MMSeg's DATASETS registry."""
from . import samplers, transforms  # noqa: F401
from .acdc import ACDCDataset
from .custom import CustomSegDataset
from .dark_zurich import DarkZurichConditionDataset
from .gta5 import GTA5_ID_TO_TRAINID, GTA5Dataset, convert_label_ids
from .rare_class_sampling import RareClassSampler, rare_class_probabilities
from .synthia import SYNTHIA_ID_TO_TRAINID, SynthiaDataset
from .uda_dataset import UDADataset

__all__ = [
    'GTA5Dataset', 'GTA5_ID_TO_TRAINID', 'convert_label_ids', 'UDADataset',
    'RareClassSampler', 'rare_class_probabilities', 'SynthiaDataset',
    'SYNTHIA_ID_TO_TRAINID', 'ACDCDataset', 'DarkZurichConditionDataset',
    'CustomSegDataset'
]
