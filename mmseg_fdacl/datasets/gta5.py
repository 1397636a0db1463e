"""GTA5 (Richter et al., "Playing for Data", ECCV 2016) as an MMSeg dataset.

GTA5 frames are labelled with Cityscapes label ids; the 19 classes evaluated
on Cityscapes are kept as train ids 0..18 and every other id becomes 255
(ignore), as in the Cityscapes label definition (``cityscapesscripts``
``labels.py``). ``tools/dataset_converters/gta5.py`` writes the converted
``*_labelTrainIds.png`` maps that :class:`GTA5Dataset` reads.
"""
import os.path as osp
from typing import Dict, List

import numpy as np
from mmseg.datasets import CityscapesDataset
from mmseg.datasets.basesegdataset import BaseSegDataset
from mmseg.registry import DATASETS

# Cityscapes label id -> train id for the 19 evaluated classes; others -> 255.
GTA5_ID_TO_TRAINID: Dict[int, int] = {
    7: 0,
    8: 1,
    11: 2,
    12: 3,
    13: 4,
    17: 5,
    19: 6,
    20: 7,
    21: 8,
    22: 9,
    23: 10,
    24: 11,
    25: 12,
    26: 13,
    27: 14,
    28: 15,
    31: 16,
    32: 17,
    33: 18
}
IGNORE_INDEX = 255

_LUT = np.full(256, IGNORE_INDEX, dtype=np.uint8)
for _label_id, _train_id in GTA5_ID_TO_TRAINID.items():
    _LUT[_label_id] = _train_id


def convert_label_ids(label_ids: np.ndarray) -> np.ndarray:
    """Map Cityscapes/GTA5 label ids to the 19 train ids.

    Args:
        label_ids (np.ndarray): Integer array of label ids (any shape), e.g. a
            GTA5 ``labels/*.png`` or a Cityscapes ``*_gtFine_labelIds.png``.

    Returns:
        np.ndarray: uint8 array of the same shape with train ids 0..18 and
        255 for every id outside :data:`GTA5_ID_TO_TRAINID` (including
        negative ids and ids above 255).

    Raises:
        TypeError: If ``label_ids`` is not an integer array.
    """
    label_ids = np.asarray(label_ids)
    if not np.issubdtype(label_ids.dtype, np.integer):
        raise TypeError('label_ids must be an integer array of label ids, got '
                        f'dtype {label_ids.dtype}; read label PNGs unchanged '
                        "(e.g. cv2.imread(path, cv2.IMREAD_UNCHANGED)).")
    if label_ids.dtype == np.uint8:
        return _LUT[label_ids]
    out = np.full(label_ids.shape, IGNORE_INDEX, dtype=np.uint8)
    in_range = (label_ids >= 0) & (label_ids < 256)
    out[in_range] = _LUT[label_ids[in_range]]
    return out


@DATASETS.register_module()
class GTA5Dataset(BaseSegDataset):
    """GTA5 with Cityscapes' 19 classes and palette.

    Expected layout under ``data_root`` (after
    ``tools/dataset_converters/gta5.py``)::

        images/00001.png
        labels/00001.png                  # label ids, as downloaded
        labels/00001_labelTrainIds.png    # train ids, written by the converter

    Args:
        img_suffix (str): Suffix of images. Default: '.png'.
        seg_map_suffix (str): Suffix of label maps.
            Default: '_labelTrainIds.png'.
        data_prefix (dict): Image and label folders relative to
            ``data_root``. Default: dict(img_path='images',
            seg_map_path='labels').
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """
    METAINFO = CityscapesDataset.METAINFO

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '_labelTrainIds.png',
                 data_prefix: dict = dict(
                     img_path='images', seg_map_path='labels'),
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """List images and check that their converted label maps exist.

        Returns:
            list[dict]: MMSeg data infos (``img_path``, ``seg_map_path``...).

        Raises:
            FileNotFoundError: If no image is found, or if local label maps
                are missing (the converter has not been run).
        """
        data_list = super().load_data_list()
        img_dir = self.data_prefix.get('img_path', '')
        if not data_list:
            raise FileNotFoundError(
                f'GTA5Dataset found no "*{self.img_suffix}" images in '
                f'{img_dir!r}; check data_root/data_prefix (expected '
                'layout: <data_root>/images/00001.png).')
        if self.data_prefix.get('seg_map_path') and self.backend_args is None:
            missing = [
                info['seg_map_path'] for info in data_list
                if not osp.isfile(info['seg_map_path'])
            ]
            if missing:
                raise FileNotFoundError(
                    f'GTA5Dataset: {len(missing)} of {len(data_list)} label '
                    f'maps are missing, e.g. {missing[0]!r}. Convert the '
                    'GTA5 label ids to train ids first: python '
                    'tools/dataset_converters/gta5.py <data_root>')
        return data_list
