"""Datasets stored as ``<root>/<condition>/<split>/<sequence>/<frame>`` trees.

ACDC (``rgb_anon/<condition>/<split>/...``) and Dark Zurich
(``rgb_anon/<split>/<condition>/...``) keep every condition and split in one
tree under ``rgb_anon/`` with the labels mirrored under ``gt/``. DAFormer
and HRDA flatten ACDC with ``rsync`` before training; here the tree is read
in place: the chosen conditions of one split are scanned recursively, and
each data info also names its ``condition``. Image paths stay below
``data_prefix.img_path`` (``rgb_anon``), so pseudo labels mirror the tree
and never collide across conditions.
"""
import os.path as osp
from typing import List, Optional, Sequence, Tuple

from mmengine import fileio

from .checks import DataNotFoundError, check_data_dirs, check_not_empty

__all__ = ['ConditionSplitMixin']


class ConditionSplitMixin:
    """Lists the images of some conditions of one split of such a tree.

    Mixed in before an MMSeg dataset class (its suffixes and metainfo stay
    those of the class). Subclasses set :attr:`CONDITIONS`, :attr:`SPLITS`,
    :attr:`FOLDER` (``'{condition}/{split}'`` or ``'{split}/{condition}'``)
    and :attr:`LABELED_SPLITS`.

    Args:
        split (str): One of :attr:`SPLITS`.
        conditions (Sequence[str], optional): Some of :attr:`CONDITIONS`;
            default: :attr:`DEFAULT_CONDITIONS`.
        with_labels (bool, optional): Give each sample its label map; the
            default is True for :attr:`LABELED_SPLITS` (the test labels are
            private).
        data_prefix (dict): Image and label roots relative to ``data_root``.
            Default: dict(img_path='rgb_anon', seg_map_path='gt').
        **kwargs: Passed to the MMSeg dataset class.
    """
    CONDITIONS: Tuple[str, ...] = ()
    DEFAULT_CONDITIONS: Tuple[str, ...] = ()
    SPLITS: Tuple[str, ...] = ('train', 'val', 'test')
    LABELED_SPLITS: Tuple[str, ...] = ('train', 'val')
    FOLDER = '{condition}/{split}'

    def __init__(self,
                 split: str = 'train',
                 conditions: Optional[Sequence[str]] = None,
                 with_labels: Optional[bool] = None,
                 data_prefix: dict = dict(
                     img_path='rgb_anon', seg_map_path='gt'),
                 **kwargs) -> None:
        name = type(self).__name__
        if split not in self.SPLITS:
            raise ValueError(f'{name}: `split` must be one of {self.SPLITS}, '
                             f'got {split!r}.')
        conditions = tuple(self.DEFAULT_CONDITIONS if conditions is None
                           else ([conditions] if isinstance(conditions, str)
                                 else conditions))
        unknown = [c for c in conditions if c not in self.CONDITIONS]
        if not conditions or unknown:
            raise ValueError(
                f'{name}: `conditions` must be a non-empty subset of '
                f'{self.CONDITIONS}, got {list(conditions)!r}.')
        self.split = split
        self.conditions = conditions
        self.with_labels = (split in self.LABELED_SPLITS
                            if with_labels is None else bool(with_labels))
        super().__init__(data_prefix=data_prefix, **kwargs)

    def condition_dirs(self, key: str) -> List[Tuple[str, str]]:
        """``(condition, folder)`` of each condition under ``data_prefix[key]``."""
        root = self.data_prefix.get(key) or self.data_root or ''
        return [(c, osp.join(root, self.FOLDER.format(condition=c,
                                                      split=self.split)))
                for c in self.conditions]

    def load_data_list(self) -> List[dict]:
        """Scan each condition's folder of the split recursively.

        Raises:
            DataNotFoundError: Naming a missing folder or an empty split.
            FileNotFoundError: Naming a missing label map.
        """
        name = type(self).__name__
        check_data_dirs(name, self.data_root)
        data_list = []
        labels = dict(self.condition_dirs('seg_map_path'))
        for condition, img_dir in self.condition_dirs('img_path'):
            if not osp.isdir(img_dir):
                raise DataNotFoundError(
                    f'{name}: the {condition!r} images of split '
                    f'{self.split!r} should be in {img_dir!r}, which does '
                    f'not exist (layout rgb_anon/{self.FOLDER}/<sequence>/'
                    f'*{self.img_suffix}; conditions {self.CONDITIONS}).')
            for rel in fileio.list_dir_or_file(
                    img_dir, list_dir=False, suffix=self.img_suffix,
                    recursive=True, backend_args=self.backend_args):
                info = dict(img_path=osp.join(img_dir, rel),
                            condition=condition,
                            label_map=self.label_map,
                            reduce_zero_label=self.reduce_zero_label,
                            seg_fields=[])
                if self.with_labels:
                    info['seg_map_path'] = osp.join(
                        labels[condition],
                        rel[:-len(self.img_suffix)] + self.seg_map_suffix)
                data_list.append(info)
        check_not_empty(name, len(data_list),
                        ', '.join(d for _, d in self.condition_dirs(
                            'img_path')), self.img_suffix)
        data_list.sort(key=lambda info: info['img_path'])
        if self.with_labels and self.backend_args is None:
            missing = [info['seg_map_path'] for info in data_list
                       if not osp.isfile(info['seg_map_path'])]
            if missing:
                raise FileNotFoundError(
                    f'{name}: {len(missing)} of {len(data_list)} label maps '
                    f'of split {self.split!r} are missing, e.g. '
                    f'{missing[0]!r}; extract the gt archive into data_root, '
                    'or set with_labels=False for unlabeled use.')
        return data_list
