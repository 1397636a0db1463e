"""Cityscapes label ids and the 19 evaluated train ids (GTA5 uses the same).

From the Cityscapes label definition (``cityscapesscripts`` ``labels.py``):
every id outside the 19 classes maps to :data:`IGNORE_INDEX`.
"""
from typing import Dict, Tuple

import numpy as np

#: The label ignored by losses and metrics.
IGNORE_INDEX = 255

#: Cityscapes/GTA5 label id -> train id of the 19 evaluated classes.
LABEL_ID_TO_TRAIN_ID: Dict[int, int] = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18
}

#: Train id -> label id (index = train id).
TRAIN_ID_TO_LABEL_ID: Tuple[int, ...] = tuple(
    sorted(LABEL_ID_TO_TRAIN_ID, key=LABEL_ID_TO_TRAIN_ID.get))

_LUT = np.full(256, IGNORE_INDEX, dtype=np.uint8)
for _label_id, _train_id in LABEL_ID_TO_TRAIN_ID.items():
    _LUT[_label_id] = _train_id


def convert_label_ids(label_ids: np.ndarray) -> np.ndarray:
    """Map Cityscapes/GTA5 label ids to the 19 train ids.

    Args:
        label_ids (np.ndarray): Integer array of label ids (any shape), e.g. a
            GTA5 ``labels/*.png`` or a Cityscapes ``*_gtFine_labelIds.png``.

    Returns:
        np.ndarray: uint8 array of the same shape with train ids 0..18 and
        255 for every id outside :data:`LABEL_ID_TO_TRAIN_ID` (including
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
