"""Convert a folder of label-id PNGs to train-id PNGs, counting classes.

What the GTA5 and SYNTHIA converters share: list ``<folder>/*.png`` (not the
``*_labelTrainIds.png`` they write), convert each file next to itself in
``nproc`` processes, resumably, and write the class statistics
(:func:`mmseg_fdacl.datasets.class_stats.compute_class_stats`) that rare
class sampling reads.
"""
import os
import os.path as osp
from typing import Callable, Sequence, Tuple

import numpy as np

from .class_stats import compute_class_stats

__all__ = ['TRAIN_ID_SUFFIX', 'convert_label_folder']

#: The suffix of the converted maps (Cityscapes' and MMSeg's convention).
TRAIN_ID_SUFFIX = '_labelTrainIds.png'


def convert_label_folder(src_dir: str,
                         convert_file: Callable[[Tuple[str, str]],
                                                Tuple[np.ndarray, int]],
                         classes: Sequence[str],
                         stats_file: str,
                         *,
                         nproc: int = 1,
                         desc: str = 'labels',
                         layout: str = '') -> dict:
    """Convert every label-id PNG of ``src_dir`` and write the statistics.

    Args:
        src_dir (str): The folder of label-id PNGs.
        convert_file (callable): ``convert_file((src, dst))`` writes the
            train-id map ``dst`` and returns ``(counts, ignored)``; a
            module-level function (it runs in worker processes).
        classes (Sequence[str]): The class names of the counts.
        stats_file (str): The statistics file to write.
        nproc (int): Worker processes. Default: 1.
        desc (str): Progress-bar label. Default: 'labels'.
        layout (str): The expected layout, quoted in errors.

    Returns:
        dict: The statistics written (per-image keys: the label-id file
        names).

    Raises:
        ValueError: If ``nproc`` < 1.
        FileNotFoundError: If the folder is missing or holds no label PNGs.
    """
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        raise ValueError(f'nproc must be an integer >= 1, got {nproc!r}')
    if not osp.isdir(src_dir):
        raise FileNotFoundError(
            f'label folder {src_dir!r} not found; expected the layout '
            f'{layout}.')
    names = sorted(
        name for name in os.listdir(src_dir)
        if name.endswith('.png') and not name.endswith(TRAIN_ID_SUFFIX))
    if not names:
        raise FileNotFoundError(
            f'no label-id PNGs (*.png) in {src_dir!r}; download and extract '
            f'the labels there (expected layout: {layout}).')
    items = [(name, (osp.join(src_dir, name),
                     osp.join(src_dir, name[:-len('.png')] + TRAIN_ID_SUFFIX)))
             for name in names]
    # Counted while converting: one pass over the files.
    return compute_class_stats(items, convert_file, classes, stats_file,
                               nproc=nproc, desc=desc)
