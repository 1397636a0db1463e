"""Any labelled or unlabelled image folder as a dataset, set by its metainfo.

In MMSeg 0.x forks (DAFormer, HRDA, MIC) a new dataset means a new class in
a new file, registered with ``@DATASETS.register_module()``, and a
``KeyError: 'MyDataset is not in the dataset registry'`` when that file is
not imported (MIC issue #48). Here a new dataset needs no class:
:class:`CustomSegDataset` takes the classes, palette, folders and suffixes
from the config, and checks them with errors that name the key.
"""
import os.path as osp
from typing import List, Optional, Sequence

from mmseg.datasets.basesegdataset import BaseSegDataset
from mmseg.registry import DATASETS

from .checks import check_data_dirs, check_not_empty

__all__ = ['CustomSegDataset', 'check_metainfo']


def check_metainfo(metainfo: Optional[dict],
                   owner: str = 'CustomSegDataset') -> None:
    """Raise unless ``metainfo`` holds classes and a matching palette.

    Args:
        metainfo (dict, optional): ``classes`` (sequence of unique names)
            and ``palette`` (one ``[r, g, b]`` of ints 0..255 per class).
        owner (str): Name for the messages.

    Raises:
        ValueError: Naming the key, the value and what is expected.
    """
    if not isinstance(metainfo, dict) or not metainfo.get('classes'):
        raise ValueError(
            f'{owner}: `metainfo` must be a dict with `classes` (the class '
            'names, in train-id order) and `palette` (one [r, g, b] per '
            f'class), got {metainfo!r}.')
    classes: Sequence = metainfo['classes']
    if isinstance(classes, str) or not all(
            isinstance(c, str) and c for c in classes):
        raise ValueError(f'{owner}: metainfo `classes` must be a list of '
                         f'non-empty names, got {classes!r}.')
    if len(set(classes)) != len(classes):
        dup = sorted({c for c in classes if list(classes).count(c) > 1})
        raise ValueError(f'{owner}: metainfo `classes` repeats {dup}.')
    palette = metainfo.get('palette')
    if palette is None:
        raise ValueError(
            f'{owner}: metainfo needs a `palette` with one [r, g, b] per '
            f'class ({len(classes)} classes {list(classes)}).')
    if len(palette) != len(classes):
        raise ValueError(
            f'{owner}: metainfo `palette` has {len(palette)} colours for '
            f'{len(classes)} classes {list(classes)}; give one [r, g, b] '
            'per class.')
    for name, color in zip(classes, palette):
        if (not isinstance(color, (list, tuple)) or len(color) != 3
                or not all(isinstance(v, int) and 0 <= v <= 255
                           for v in color)):
            raise ValueError(
                f'{owner}: palette colour of class {name!r} must be three '
                f'ints 0..255 [r, g, b], got {color!r}.')


@DATASETS.register_module()
class CustomSegDataset(BaseSegDataset):
    """A folder dataset whose classes, palette and suffixes come from the config.

    Images ``<data_root>/<img_path>/**/*<img_suffix>``; labels (optional,
    none for an unlabelled target) ``<data_root>/<seg_map_path>/<same
    relative name><seg_map_suffix>`` holding train ids ``0 .. N - 1`` and
    ``ignore_index`` (single-channel PNGs). ``tools/make_custom_config.py``
    writes configs for it; ``tools/check_dataset.py`` checks the files.

    Example::

        dict(type='CustomSegDataset',
             metainfo=dict(classes=('road', 'car'),
                           palette=[[128, 64, 128], [0, 0, 142]]),
             data_root='data/mine', img_suffix='.jpg',
             seg_map_suffix='_mask.png',
             data_prefix=dict(img_path='images', seg_map_path='labels'))

    Args:
        metainfo (dict): ``classes`` and ``palette`` (see
            :func:`check_metainfo`).
        img_suffix (str): Image file suffix. Default: '.png'.
        seg_map_suffix (str): Label file suffix. Default: '.png'.
        **kwargs: As :class:`mmseg.datasets.BaseSegDataset` (``data_root``,
            ``data_prefix``, ``pipeline``, ``ignore_index``, ...).

    Raises:
        ValueError: If the metainfo is incomplete.
        DataNotFoundError: If a folder is missing or holds no image.
    """

    def __init__(self,
                 metainfo: Optional[dict] = None,
                 img_suffix: str = '.png',
                 seg_map_suffix: str = '.png',
                 **kwargs) -> None:
        check_metainfo(metainfo)
        check_data_dirs(type(self).__name__, kwargs.get('data_root'),
                        kwargs.get('data_prefix'))
        super().__init__(
            metainfo=metainfo,
            img_suffix=img_suffix,
            seg_map_suffix=seg_map_suffix,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        """List the images (and labels); raise if there is none."""
        data_list = super().load_data_list()
        img_dir = self.data_prefix.get('img_path') or self.data_root or ''
        check_not_empty(type(self).__name__, len(data_list),
                        osp.abspath(img_dir), self.img_suffix)
        return data_list
