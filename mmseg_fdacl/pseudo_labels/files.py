"""The files of a pseudo-label folder and of the datasets it mirrors.

A pseudo-label folder mirrors the target image tree below the dataset's
``data_prefix['img_path']`` (:func:`mmseg_fdacl.utils.pseudo_label_path`):
one uint8 PNG of train ids per image, plus ``manifest.json``. Every file is
written through :func:`mmseg_fdacl.utils.atomic_io.atomic_write_with`, so no
reader sees a truncated file; what a killed writer leaves behind is a
temporary file (:func:`~mmseg_fdacl.utils.atomic_io.is_temporary`), removed
by the next run.
"""
import os
import os.path as osp
from typing import Iterator, Optional, Tuple, Union

import cv2
import numpy as np
from mmengine.dataset import BaseDataset

from mmseg_fdacl.datasets.file_list import build_file_list
from mmseg_fdacl.utils.atomic_io import atomic_write_with, is_temporary

__all__ = [
    'file_list', 'image_root', 'target_items', 'write_png', 'has_png',
    'remove_stale_temporary_files'
]

DatasetLike = Union[dict, BaseDataset]


def file_list(dataset: DatasetLike, name: str) -> BaseDataset:
    """The dataset of a config (without its pipeline) or the dataset itself.

    Args:
        dataset (dict | BaseDataset): A dataset config or a built dataset.
        name (str): The argument's name, for the error message.

    Returns:
        BaseDataset: The dataset, as
            :func:`mmseg_fdacl.datasets.file_list.build_file_list` gives it.

    Raises:
        TypeError: If ``dataset`` is neither a dict nor a dataset.
    """
    if not isinstance(dataset, (BaseDataset, dict)):
        raise TypeError(f'{name} must be a dataset config dict or a '
                        f'BaseDataset, got {type(dataset).__name__}.')
    return build_file_list(dataset)


def image_root(dataset: BaseDataset) -> str:
    """Root of the target image tree that a pseudo-label folder mirrors.

    Args:
        dataset (BaseDataset): The target dataset.

    Returns:
        str: ``data_prefix['img_path']``, else ``data_root``.

    Raises:
        ValueError: If the dataset has neither.
    """
    prefix = getattr(dataset, 'data_prefix', None) or {}
    root = prefix.get('img_path') or getattr(dataset, 'data_root', None)
    if not root:
        raise ValueError(
            f'target dataset {type(dataset).__name__} has no '
            "data_prefix['img_path'] or data_root: the pseudo-label folder "
            'mirrors the image tree below it, so one is needed.')
    return root


def target_items(
        target: BaseDataset
) -> Iterator[Tuple[int, str, Optional[str], str]]:
    """``(index, img_path, seg_map_path or None, image root)`` per sample."""
    root = image_root(target)
    for i in range(len(target)):
        info = target.get_data_info(i)
        yield i, info['img_path'], info.get('seg_map_path'), root


def write_png(path: str, label: np.ndarray) -> None:
    """Write a pseudo label atomically (cv2, uint8 PNG).

    Raises:
        OSError: If cv2 cannot write the file.
    """

    def write(tmp: str) -> None:
        if not cv2.imwrite(tmp, label):
            raise OSError(f'cv2 could not write pseudo label {tmp!r}')

    atomic_write_with(path, write)


def has_png(folder: str) -> bool:
    """Whether any file below ``folder`` ends with ``.png``."""
    for _, _, files in os.walk(folder):
        if any(f.endswith('.png') for f in files):
            return True
    return False


def remove_stale_temporary_files(folder: str) -> None:
    """Remove what killed atomic writes left below ``folder``."""
    for root, _, files in os.walk(folder):
        for name in files:
            if is_temporary(name):
                os.remove(osp.join(root, name))
