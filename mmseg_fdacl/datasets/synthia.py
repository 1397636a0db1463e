"""SYNTHIA (Ros et al., "The SYNTHIA Dataset", CVPR 2016), the
SYNTHIA-RAND-CITYSCAPES split, as an MMSeg source dataset.

Layout as downloaded: ``RGB/0000000.png`` (1280x760 frames) and
``GT/LABELS/0000000.png``, 16-bit PNGs whose first channel (R) holds the
SYNTHIA class id and whose second the instance id. OpenCV reads them in BGR
order, so the class id is channel index 2 of ``cv2.imread(path,
cv2.IMREAD_UNCHANGED)`` (DAFormer's ``tools/convert_datasets/synthia.py``
takes ``[:, :, -1]`` of the same read; PIL cannot open these files).
:func:`convert_synthia_labels` (``tools/dataset_converters/synthia.py``)
maps the ids to Cityscapes train ids by :data:`SYNTHIA_ID_TO_TRAINID`, the
16 classes SYNTHIA shares with Cityscapes (every other id, e.g. void,
lane marking, parking slot, becomes 255), and writes ``class_stats.json``.
Terrain, truck and train never occur, so models trained on SYNTHIA are
scored on 16 (and on 13) classes: :class:`mmseg_fdacl.evaluation.
ClassSubsetIoUMetric`. DAFormer's converter also maps ids 16, 18 and 20 to
terrain, truck and train ("not present in synthia"); SYNTHIA-RAND-CITYSCAPES
holds none of them, so the outputs are the same.
"""
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np
from mmseg.registry import DATASETS
from PIL import Image

from .gta5 import GTA5Dataset
from .label_folder import convert_label_folder
from .label_ids import IGNORE_INDEX

__all__ = ['SYNTHIA_ID_TO_TRAINID', 'SYNTHIA_CLASS_CHANNEL',
           'read_synthia_label', 'convert_synthia_ids',
           'convert_synthia_labels', 'SynthiaDataset']

#: SYNTHIA class id -> Cityscapes train id (the 16 shared classes).
SYNTHIA_ID_TO_TRAINID: Dict[int, int] = {
    3: 0, 4: 1, 2: 2, 21: 3, 5: 4, 7: 5, 15: 6, 9: 7, 6: 8, 1: 10, 10: 11,
    17: 12, 8: 13, 19: 15, 12: 17, 11: 18
}
#: Index of the class-id channel in OpenCV's BGR(A) order (R).
SYNTHIA_CLASS_CHANNEL = 2

_LUT = np.full(256, IGNORE_INDEX, dtype=np.uint8)
for _sid, _tid in SYNTHIA_ID_TO_TRAINID.items():
    _LUT[_sid] = _tid

_LAYOUT = '<data_root>/RGB/0000000.png and <data_root>/GT/LABELS/0000000.png'


def read_synthia_label(path: str) -> np.ndarray:
    """The class-id channel of a SYNTHIA ``GT/LABELS`` PNG.

    Raises:
        ValueError: Naming the file when it cannot be read or is not a
            multi-channel label PNG.
    """
    label = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if label is None:
        raise ValueError(f'{path}: cannot read this SYNTHIA label PNG.')
    if label.ndim != 3 or label.shape[2] < 3:
        raise ValueError(
            f'{path}: expected a SYNTHIA GT/LABELS PNG with the class id in '
            f'its first (R) channel and the instance id in the second, got '
            f'shape {label.shape}; the GT/COLOR images are not label maps.')
    return label[:, :, SYNTHIA_CLASS_CHANNEL]


def convert_synthia_ids(class_ids: np.ndarray) -> np.ndarray:
    """Map SYNTHIA class ids to train ids (255 for every other id)."""
    class_ids = np.asarray(class_ids)
    if not np.issubdtype(class_ids.dtype, np.integer):
        raise TypeError('class_ids must be an integer array, got dtype '
                        f'{class_ids.dtype}.')
    return _LUT[np.clip(class_ids, 0, 255).astype(np.uint8)]


def convert_synthia_label_file(task: Tuple[str, str]
                               ) -> Tuple[np.ndarray, int]:
    """Convert one ``GT/LABELS`` PNG to a uint8 train-id PNG.

    Args:
        task (tuple[str, str]): ``(src, dst)``.

    Returns:
        tuple[np.ndarray, int]: Pixels of the 19 train ids and the number of
        pixels mapped to 255.
    """
    src, dst = task
    train_ids = convert_synthia_ids(read_synthia_label(src))
    Image.fromarray(train_ids).save(dst)
    counts = np.bincount(train_ids.ravel(), minlength=256)
    return counts[:19], int(counts[IGNORE_INDEX])


def convert_synthia_labels(data_root: str,
                           nproc: int = 1,
                           label_dir: str = 'GT/LABELS',
                           stats_file: str = 'class_stats.json') -> dict:
    """Write ``GT/LABELS/*_labelTrainIds.png`` and ``class_stats.json``.

    In ``nproc`` processes, resumably (a killed run continues); statistics
    in the format of :mod:`mmseg_fdacl.datasets.class_stats`, keyed by the
    label file names.

    Args:
        data_root (str): SYNTHIA-RAND-CITYSCAPES root (``RGB/``, ``GT/``).
        nproc (int): Worker processes. Default: 1.
        label_dir (str): Label folder relative to ``data_root``.
            Default: 'GT/LABELS'.
        stats_file (str): JSON file relative to ``data_root``.
            Default: 'class_stats.json'.

    Returns:
        dict: The statistics written.
    """
    return convert_label_folder(
        osp.join(data_root, label_dir), convert_synthia_label_file,
        SynthiaDataset.METAINFO['classes'], osp.join(data_root, stats_file),
        nproc=nproc, desc='synthia labels', layout=_LAYOUT)


@DATASETS.register_module()
class SynthiaDataset(GTA5Dataset):
    """SYNTHIA-RAND-CITYSCAPES with Cityscapes' 19 classes and palette.

    Expected layout under ``data_root`` (after
    ``tools/dataset_converters/synthia.py``)::

        RGB/0000000.png
        GT/LABELS/0000000.png                 # 16-bit, as downloaded
        GT/LABELS/0000000_labelTrainIds.png   # written by the converter

    Args:
        img_suffix (str): Default: '.png'.
        seg_map_suffix (str): Default: '_labelTrainIds.png'.
        data_prefix (dict): Default: dict(img_path='RGB',
            seg_map_path='GT/LABELS').
        **kwargs: Passed to :class:`mmseg.datasets.BaseSegDataset`.
    """
    LAYOUT = _LAYOUT
    CONVERTER = 'tools/dataset_converters/synthia.py'

    def __init__(self,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '_labelTrainIds.png',
                 data_prefix: dict = dict(
                     img_path='RGB', seg_map_path='GT/LABELS'),
                 **kwargs) -> None:
        super().__init__(
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            data_prefix=data_prefix,
            **kwargs)
