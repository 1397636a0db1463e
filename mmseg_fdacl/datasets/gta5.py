"""GTA5 (Richter et al., "Playing for Data", ECCV 2016) as an MMSeg dataset.

GTA5 frames are labeled with Cityscapes label ids; the 19 classes evaluated
on Cityscapes are kept as train ids 0..18 and every other id becomes 255
(ignore), as in the Cityscapes label definition (``cityscapesscripts``
``labels.py``). :func:`convert_gta5_labels` (command line:
``tools/dataset_converters/gta5.py``) writes the converted
``*_labelTrainIds.png`` maps that :class:`GTA5Dataset` reads.
"""
import os.path as osp
from typing import List, Tuple

import numpy as np
from PIL import Image
from mmseg.datasets import CityscapesDataset
from mmseg.datasets.basesegdataset import BaseSegDataset
from mmseg.registry import DATASETS

from .checks import check_data_dirs
from .label_folder import convert_label_folder
from .label_ids import (IGNORE_INDEX, LABEL_ID_TO_TRAIN_ID,  # noqa: F401
                        convert_label_ids)

# GTA5 frames carry Cityscapes label ids (kept under this name for users).
GTA5_ID_TO_TRAINID = LABEL_ID_TO_TRAIN_ID


def read_label_ids(path: str) -> np.ndarray:
    """Read a label-id PNG as a 2-D integer array.

    GTA5 ships palette ("P" mode) PNGs whose palette indices are the label
    ids; OpenCV would expand those to colors, so PIL reads them.

    Raises:
        ValueError: If the file is not a single-channel label map.
    """
    with Image.open(path) as img:
        if img.mode not in ('P', 'L', 'I', 'I;16'):
            raise ValueError(
                f'{path}: expected a single-channel label-id PNG (mode P or '
                f'L), got mode {img.mode!r}; color-coded labels must be '
                'converted to label ids first.')
        return np.asarray(img)


def convert_label_file(task: Tuple[str, str]) -> Tuple[np.ndarray, int]:
    """Convert one label-id PNG into a train-id PNG.

    Args:
        task (tuple[str, str]): ``(src, dst)``: the label-id PNG and where to
            write the uint8 train-id PNG.

    Returns:
        tuple[np.ndarray, int]: Pixel counts of the 19 train ids, and the
        number of pixels mapped to 255.
    """
    src, dst = task
    train_ids = convert_label_ids(read_label_ids(src))
    Image.fromarray(train_ids).save(dst)
    counts = np.bincount(train_ids.ravel(), minlength=256)
    return counts[:len(GTA5_ID_TO_TRAINID)], int(counts[IGNORE_INDEX])


def convert_gta5_labels(data_root: str,
                        nproc: int = 1,
                        label_dir: str = 'labels',
                        stats_file: str = 'class_stats.json') -> dict:
    """Write ``<label_dir>/*_labelTrainIds.png`` and class statistics.

    Every ``<data_root>/<label_dir>/*.png`` that is not already a
    ``*_labelTrainIds.png`` is converted with :func:`convert_label_ids`, in
    ``nproc`` processes with a progress bar, resumably (a killed run
    continues; :func:`mmseg_fdacl.datasets.class_stats.compute_class_stats`).
    Statistics are written to ``<data_root>/<stats_file>`` as JSON::

        {"classes": [19 names], "num_images": int,
         "pixel_counts": [19 ints], "ignored_pixels": int,
         "per_image": {"<label file name>": [19 ints]}}

    Args:
        data_root (str): GTA5 root holding ``images/`` and ``labels/``.
        nproc (int): Worker processes. Default: 1.
        label_dir (str): Label folder relative to ``data_root``.
            Default: 'labels'.
        stats_file (str): JSON file name relative to ``data_root``.
            Default: 'class_stats.json'.

    Returns:
        dict: The statistics written to the JSON file.

    Raises:
        ValueError: If ``nproc`` < 1.
        FileNotFoundError: If the label folder is missing or holds no
            label-id PNGs.
    """
    return convert_label_folder(
        osp.join(data_root, label_dir), convert_label_file,
        GTA5Dataset.METAINFO['classes'], osp.join(data_root, stats_file),
        nproc=nproc, desc='gta5 labels',
        layout='<data_root>/images/*.png and <data_root>/labels/*.png')


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
    #: Quoted in the errors (subclasses for other converted sources set them).
    LAYOUT = '<data_root>/images/00001.png'
    CONVERTER = 'tools/dataset_converters/gta5.py'

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
            DataNotFoundError: If ``data_root`` or a split folder is missing.
            FileNotFoundError: If no image is found, or if local label maps
                are missing (the converter has not been run).
        """
        # Name the missing folder and how to prepare it, instead of the bare
        # listing error. The prefixes are already joined with data_root.
        check_data_dirs(type(self).__name__, self.data_root)
        check_data_dirs(type(self).__name__, None, self.data_prefix)
        data_list = super().load_data_list()
        img_dir = self.data_prefix.get('img_path', '')
        name = type(self).__name__
        if not data_list:
            raise FileNotFoundError(
                f'{name} found no "*{self.img_suffix}" images in '
                f'{img_dir!r}; check data_root/data_prefix (expected '
                f'layout: {self.LAYOUT}).')
        if self.data_prefix.get('seg_map_path') and self.backend_args is None:
            missing = [
                info['seg_map_path'] for info in data_list
                if not osp.isfile(info['seg_map_path'])
            ]
            if missing:
                raise FileNotFoundError(
                    f'{name}: {len(missing)} of {len(data_list)} label '
                    f'maps are missing, e.g. {missing[0]!r}. Convert the '
                    'label ids to train ids first: python '
                    f'{self.CONVERTER} <data_root>')
        return data_list
