"""Checks that turn missing or empty data folders into actionable errors.

MMSeg lists a split with ``os.scandir``; a wrong ``data_root`` surfaces as a
bare ``FileNotFoundError`` deep in the runner, and an empty folder as an
``InfiniteSampler`` that waits forever for a first index. These functions are
meant to be called by the dataset classes (``GTA5Dataset``, ``UDADataset``)
before and after listing files. :func:`invalid_label_values` finds label
values that would reach the loss as out-of-range targets (torch's bare
``IndexError: Target 11 is out of bounds``); the loading transforms and
``tools/check_dataset.py`` use it.
"""
import os.path as osp
from typing import Any, Dict, Optional, Sequence

import numpy as np

__all__ = ['PREPARE_HINTS', 'check_data_dirs', 'check_not_empty',
           'DataNotFoundError', 'LabelValueError', 'invalid_label_values',
           'label_value_message']

#: How to obtain each dataset, quoted in the errors.
PREPARE_HINTS: Dict[str, str] = {
    'GTA5Dataset': (
        'Download GTA5 (https://download.visinf.tu-darmstadt.de/data/'
        'from_games/) into data/gta5/{images,labels}, then write the train '
        'id maps with `python tools/dataset_converters/gta5.py data/gta5`. '
        'For the embedded demo data run `python tools/make_synthetic_uda.py`.'
    ),
    'CityscapesDataset': (
        'Download leftImg8bit_trainvaltest.zip and gtFine_trainvaltest.zip '
        'from https://www.cityscapes-dataset.com into data/cityscapes, then '
        'write *_gtFine_labelTrainIds.png with MMSeg\'s '
        '`python tools/dataset_converters/cityscapes.py data/cityscapes`. '
        'For the embedded demo data run `python tools/make_synthetic_uda.py`.'
    ),
    'SynthiaDataset': (
        'Download SYNTHIA-RAND-CITYSCAPES (http://synthia-dataset.net/'
        'downloads/) into data/synthia/{RGB,GT}, then write the train id maps '
        'with `python tools/dataset_converters/synthia.py data/synthia`.'),
    'ACDCDataset': (
        'Download rgb_anon_trainvaltest.zip and gt_trainval.zip from '
        'https://acdc.vision.ee.ethz.ch and extract both into data/acdc '
        '(rgb_anon/<condition>/<split>/..., gt/<condition>/<split>/...).'),
    'DarkZurichConditionDataset': (
        'Download Dark_Zurich_train_anon.zip, Dark_Zurich_val_anon.zip (and '
        'the test archive) from https://www.trace.ethz.ch/publications/2019/'
        'GCMA_UIoU/ and extract them into data/dark_zurich '
        '(rgb_anon/<split>/<condition>/..., gt/val/night/...).'),
}
_DEFAULT_HINT = ('Check data_root and data_prefix in the config (paths are '
                 'relative to the directory you run from).')


class DataNotFoundError(FileNotFoundError):
    """A dataset folder is missing or holds no samples."""


def _hint(dataset: str) -> str:
    return PREPARE_HINTS.get(dataset, _DEFAULT_HINT)


def check_data_dirs(dataset: str,
                    data_root: Optional[str],
                    data_prefix: Optional[Dict[str, Any]] = None,
                    keys: Sequence[str] = ('img_path', 'seg_map_path')
                    ) -> None:
    """Raise if ``data_root`` or a split folder of ``data_prefix`` is missing.

    Args:
        dataset (str): Dataset class name, for the message and the hint.
        data_root (str, optional): The dataset root.
        data_prefix (dict, optional): ``img_path`` / ``seg_map_path`` folders,
            relative to ``data_root`` unless absolute.
        keys (Sequence[str]): Which prefixes must exist.

    Raises:
        DataNotFoundError: Naming the missing path and how to prepare it.
    """
    if data_root and not osp.isdir(data_root):
        raise DataNotFoundError(
            f'{dataset}: data_root {data_root!r} (absolute: '
            f'{osp.abspath(data_root)!r}) does not exist. {_hint(dataset)}')
    for key in keys:
        prefix = (data_prefix or {}).get(key)
        if not prefix:
            continue
        path = prefix if osp.isabs(prefix) or not data_root else osp.join(
            data_root, prefix)
        if not osp.isdir(path):
            raise DataNotFoundError(
                f'{dataset}: the {key} folder {path!r} does not exist (split '
                f'missing or wrong data_prefix {data_prefix!r}). '
                f'{_hint(dataset)}')


def check_not_empty(dataset: str, num_samples: int, img_dir: str,
                    img_suffix: str = '', role: str = '') -> None:
    """Raise if a dataset found no samples.

    Args:
        dataset (str): Dataset class name.
        num_samples (int): Samples found.
        img_dir (str): The folder that was searched.
        img_suffix (str): The image suffix that was searched for.
        role (str): E.g. ``'target'``, for the message.

    Raises:
        DataNotFoundError: If ``num_samples`` is 0.
    """
    if num_samples > 0:
        return
    what = f'the {role} set ' if role else ''
    raise DataNotFoundError(
        f'{dataset}: {what}is empty: no files ending in {img_suffix!r} under '
        f'{img_dir!r}. Training needs at least one image. {_hint(dataset)}')


class LabelValueError(ValueError):
    """A label map holds a value that is neither a class nor ignored."""


def invalid_label_values(label, num_classes: int,
                         ignore_index: int = 255) -> Dict[int, int]:
    """Values of ``label`` that are neither a class id nor ``ignore_index``.

    The fast path is one ``max`` and, when the ignore index is present, one
    comparison; the values are counted only when something is wrong.

    Args:
        label (np.ndarray): Integer label map.
        num_classes (int): Valid ids are ``0 .. num_classes - 1``.
        ignore_index (int): The ignored value. Default: 255.

    Returns:
        dict[int, int]: Each invalid value and its pixel count (empty when
        the map is valid).
    """
    if label.size == 0:
        return {}
    if label.min() >= 0 and label.max() < num_classes:
        return {}
    outside = (label < 0) | (label >= num_classes)
    if 0 <= ignore_index:
        outside &= label != ignore_index
    if not outside.any():
        return {}
    values, counts = np.unique(label[outside], return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}


def label_value_message(path: str, bad: Dict[int, int], num_classes: int,
                        ignore_index: int = 255, what: str = 'label map',
                        max_values: int = 8, in_report: bool = False) -> str:
    """The error text for :func:`invalid_label_values`' findings.

    Args:
        path (str): The label file.
        bad (dict[int, int]): Invalid value -> pixel count.
        num_classes (int): Number of classes of the dataset.
        ignore_index (int): The ignored value.
        what (str): What the file is, e.g. ``'pseudo label'``.
        max_values (int): How many values to list.
        in_report (bool): For a report line that names the file already:
            no file, no pointer to the dataset check. Default: False.

    Returns:
        str: Names the file, the values, the valid range and the fix.
    """
    shown = ', '.join(f'{v} ({c} px)' for v, c in
                      sorted(bad.items())[:max_values])
    more = '' if len(bad) <= max_values else \
        f' and {len(bad) - max_values} more'
    head = 'holds' if in_report else f'{what} {path!r} holds'
    tail = '' if in_report else (
        '; `python tools/check_dataset.py CONFIG` lists every such file')
    return (f'{head} value(s) {shown}{more}, which are neither a class id '
            f'(0..{num_classes - 1} for {num_classes} classes) nor the '
            f'ignore index {ignore_index}. Fix the file (convert label ids '
            'to train ids, e.g. with the dataset converter or a '
            f'`label_map`), set such pixels to {ignore_index}, or add the '
            'missing classes to the metainfo (and the model\'s '
            f'num_classes){tail}.')
