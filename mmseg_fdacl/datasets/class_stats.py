"""Per-class pixel statistics of any segmentation dataset.

Rare class sampling (:mod:`mmseg_fdacl.datasets.rare_class_sampling`) and
the class weights (:mod:`mmseg_fdacl.models.losses.class_weights`) read one
JSON file, ``class_stats.json``, in the source's ``data_root``::

    {"classes": [names], "num_images": int,
     "pixel_counts": [one int per class], "ignored_pixels": int,
     "per_image": {"<label map, relative to the label folder>": [ints]}}

The statistics are collected as DAFormer collects them during its dataset
conversion (``tools/convert_datasets/gta.py`` of lhoyer/DAFormer: pixels of
each class per label map, at the label map's own resolution), but for any
:class:`~mmseg.datasets.BaseSegDataset` a config names
(:func:`dataset_class_stats`) and for a converter's own per-file function
(:func:`compute_class_stats`, which the GTA5 and SYNTHIA converters call
while they write their train-id maps).

The work is split into shards of ``shard_size`` label maps, counted in
``nproc`` processes; each finished shard is written atomically to
``<stats file>.parts/`` so a killed run continues where it stopped, and the
folder is removed once the statistics file is complete.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
from typing import (Any, Callable, Dict, List, Optional, Sequence, Tuple,
                    Union)

import mmcv
import numpy as np
from mmengine import fileio
from mmengine.dataset import BaseDataset

from mmseg_fdacl.utils.atomic_io import atomic_write
from mmseg_fdacl.utils.progress import track_parallel_progress, track_progress
from .file_list import build_file_list

__all__ = [
    'STATS_FILE', 'SHARD_SIZE', 'count_label_pixels', 'read_label_map',
    'DatasetLabelCounter', 'compute_class_stats', 'dataset_class_stats',
    'stats_key', 'format_class_stats'
]

#: The file name RCS and the class weights look for in the ``data_root``.
STATS_FILE = 'class_stats.json'
#: Label maps per resumable shard.
SHARD_SIZE = 200
_META = 'meta.json'

#: ``count(item) -> (per-class pixel counts, ignored pixels)``.
CountFn = Callable[[Any], Tuple[np.ndarray, int]]


def count_label_pixels(label: np.ndarray,
                       num_classes: int,
                       ignore_index: int = 255
                       ) -> Tuple[np.ndarray, int, np.ndarray]:
    """Pixels of each class in one label map.

    Args:
        label (np.ndarray): Integer label map (any shape).
        num_classes (int): Classes ``0 .. num_classes - 1``.
        ignore_index (int): The ignored label. Default: 255.

    Returns:
        tuple: ``(counts, ignored, invalid)``: int64 counts of each class,
        the number of ``ignore_index`` pixels, and the sorted label values
        that are neither a class nor ``ignore_index`` (empty when clean).
    """
    label = np.asarray(label)
    if not np.issubdtype(label.dtype, np.integer):
        raise TypeError(f'label maps must hold integers, got {label.dtype}.')
    values, freq = np.unique(label, return_counts=True)
    counts = np.zeros(num_classes, np.int64)
    valid = (values >= 0) & (values < num_classes)
    counts[values[valid]] = freq[valid]
    ignored = int(freq[values == ignore_index].sum())
    invalid = values[~valid & (values != ignore_index)]
    return counts, ignored, invalid


def read_label_map(path: str,
                   backend_args: Optional[dict] = None) -> np.ndarray:
    """Read a label map as MMSeg's ``LoadAnnotations`` does (PIL, unchanged).

    Raises:
        OSError: Naming the file when it cannot be read or decoded.
    """
    try:
        data = fileio.get(path, backend_args=backend_args)
        label = mmcv.imfrombytes(data, flag='unchanged', backend='pillow')
    except Exception as e:  # decoding errors come in many types
        raise OSError(f'cannot read label map {path!r}: {e}') from e
    if label is None:
        raise OSError(f'cannot decode label map {path!r}.')
    return np.asarray(label).squeeze()


class DatasetLabelCounter:
    """Counts one label map as a dataset's pipeline would see it.

    ``reduce_zero_label`` and the data info's ``label_map`` are applied as in
    ``LoadAnnotations``. Picklable, so it runs in worker processes.

    Args:
        num_classes (int): The dataset's number of classes.
        ignore_index (int): The dataset's ignore index. Default: 255.
        reduce_zero_label (bool): As the dataset's. Default: False.
        backend_args (dict, optional): mmengine file backend. Default: None.
    """

    def __init__(self,
                 num_classes: int,
                 ignore_index: int = 255,
                 reduce_zero_label: bool = False,
                 backend_args: Optional[dict] = None) -> None:
        self.num_classes = num_classes
        self.ignore_index = ignore_index
        self.reduce_zero_label = reduce_zero_label
        self.backend_args = backend_args

    def __call__(self, item: Tuple[str, Optional[dict]]) -> Tuple[
            np.ndarray, int]:
        """Count ``item = (seg_map_path, label_map or None)``.

        Raises:
            ValueError: Naming the file and the values when it holds labels
                that are neither a class nor the ignore index.
        """
        path, label_map = item
        label = read_label_map(path, self.backend_args)
        if label.ndim != 2:
            raise ValueError(
                f'label map {path!r} has shape {label.shape}; expected one '
                'channel of class ids (a color-coded label must be converted '
                'to class ids first).')
        if label.max(initial=0) > 255:
            raise ValueError(
                f'label map {path!r} holds values up to {int(label.max())}; '
                'training reads label maps as uint8, so convert it to class '
                'ids 0..254 (255 = ignore) first.')
        label = label.astype(np.uint8)
        if self.reduce_zero_label:
            label[label == 0] = 255
            label = label - 1
            label[label == 254] = 255
        if label_map:
            orig = label.copy()
            for old, new in label_map.items():
                label[orig == old] = new
        counts, ignored, invalid = count_label_pixels(
            label, self.num_classes, self.ignore_index)
        if len(invalid):
            raise ValueError(
                f'label map {path!r} holds values {invalid.tolist()} that '
                f'are neither a class (0..{self.num_classes - 1}) nor the '
                f'ignore index {self.ignore_index}; fix the label map or the '
                "dataset's classes.")
        return counts, ignored


def stats_key(seg_map_path: str, seg_root: Optional[str]) -> str:
    """The ``per_image`` key of a label map: its path below ``seg_root``.

    Flat layouts (GTA5, SYNTHIA) thus key by file name, as before; nested
    ones (Cityscapes, ACDC) by ``city/name``, which stays unique.
    """
    if seg_root:
        rel = osp.relpath(seg_map_path, seg_root)
        if not rel.startswith('..'):
            return rel.replace(os.sep, '/')
    return osp.basename(seg_map_path)


def _fingerprint(keys: Sequence[str], classes: Sequence[str],
                 shard_size: int) -> dict:
    digest = hashlib.sha1('\n'.join(keys).encode()).hexdigest()
    return dict(classes=list(classes), num_items=len(keys),
                keys_sha1=digest, shard_size=shard_size)


def _part_path(parts_dir: str, shard: int) -> str:
    return osp.join(parts_dir, f'part-{shard:06d}.json')


def _count_shard(task: Tuple[int, Sequence[Tuple[str, Any]], CountFn, str]
                 ) -> int:
    """Count one shard and write its part file atomically."""
    shard, items, count, parts_dir = task
    counts, ignored = {}, {}
    for key, item in items:
        c, ign = count(item)
        counts[key] = [int(x) for x in c]
        ignored[key] = int(ign)
    atomic_write(_part_path(parts_dir, shard),
                 json.dumps(dict(counts=counts, ignored=ignored)))
    return shard


def _open_parts(parts_dir: str, meta: dict) -> None:
    """Create the parts folder, or keep it when it is of the same job."""
    meta_path = osp.join(parts_dir, _META)
    if osp.isfile(meta_path):
        try:
            with open(meta_path) as f:
                same = json.load(f) == meta
        except ValueError:
            same = False
        if same:
            return
        print(f'class stats: {parts_dir!r} holds partial results of another '
              'image set or class list; starting over.')
        shutil.rmtree(parts_dir)
    os.makedirs(parts_dir, exist_ok=True)
    atomic_write(meta_path, json.dumps(meta))


def compute_class_stats(items: Sequence[Tuple[str, Any]],
                        count: CountFn,
                        classes: Sequence[str],
                        out_file: str,
                        *,
                        nproc: int = 1,
                        shard_size: int = SHARD_SIZE,
                        desc: str = 'class stats') -> dict:
    """Count pixels per class of every item and write ``out_file``.

    Args:
        items (Sequence[tuple[str, Any]]): ``(per_image key, item)`` pairs;
            ``count(item)`` gives ``(counts, ignored)``.
        count (callable): Picklable (a module-level function or an object
            such as :class:`DatasetLabelCounter`) when ``nproc > 1``.
        classes (Sequence[str]): Class names, one per count.
        out_file (str): The statistics file to write (JSON, format in the
            module docstring).
        nproc (int): Worker processes. Default: 1.
        shard_size (int): Items per resumable shard. Default: 200.
        desc (str): Progress-bar label. Default: 'class stats'.

    Returns:
        dict: The statistics written.

    Raises:
        ValueError: If ``nproc`` or ``shard_size`` is < 1, ``items`` is
            empty, keys repeat, or a count has the wrong length.
    """
    for name, value in (('nproc', nproc), ('shard_size', shard_size)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f'{name} must be an integer >= 1, got {value!r}')
    keys = [key for key, _ in items]
    if not keys:
        raise ValueError(f'class stats for {out_file!r}: no label maps to '
                         'count; check the dataset (data_root, data_prefix, '
                         'seg_map_suffix).')
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise ValueError(f'class stats for {out_file!r}: the label map key '
                         f'{dup!r} occurs twice; keys must be unique.')
    parts_dir = out_file + '.parts'
    _open_parts(parts_dir, _fingerprint(keys, classes, shard_size))
    shards = range((len(items) + shard_size - 1) // shard_size)
    todo = [(s, list(items[s * shard_size:(s + 1) * shard_size]), count,
             parts_dir) for s in shards
            if not osp.isfile(_part_path(parts_dir, s))]
    if len(todo) < len(shards):
        print(f'class stats: resuming, {len(shards) - len(todo)} of '
              f'{len(shards)} shards already counted in {parts_dir!r}.')
    if todo and nproc > 1 and len(todo) > 1:
        track_parallel_progress(_count_shard, todo, min(nproc, len(todo)),
                                desc, keep_order=False)
    elif todo:
        track_progress(_count_shard, todo, desc)
    stats = _merge_parts(parts_dir, len(shards), keys, classes)
    atomic_write(out_file, json.dumps(stats, indent=1))
    shutil.rmtree(parts_dir)
    return stats


def _merge_parts(parts_dir: str, num_shards: int, keys: Sequence[str],
                 classes: Sequence[str]) -> dict:
    counts: Dict[str, List[int]] = {}
    ignored = 0
    for s in range(num_shards):
        with open(_part_path(parts_dir, s)) as f:
            part = json.load(f)
        counts.update(part['counts'])
        ignored += sum(part['ignored'].values())
    per_image = {key: counts[key] for key in keys}
    for key, row in per_image.items():
        if len(row) != len(classes):
            raise ValueError(
                f'class stats: {len(row)} counts for {key!r} but '
                f'{len(classes)} classes {list(classes)}.')
    total = np.sum(list(per_image.values()), axis=0, dtype=np.int64)
    return dict(
        classes=list(classes),
        num_images=len(keys),
        pixel_counts=[int(c) for c in total],
        ignored_pixels=int(ignored),
        per_image=per_image)


def dataset_class_stats(dataset: Union[dict, BaseDataset],
                        out_file: Optional[str] = None,
                        *,
                        nproc: int = 1,
                        shard_size: int = SHARD_SIZE) -> dict:
    """Write the statistics RCS reads for a (config-described) dataset.

    Args:
        dataset (dict | BaseDataset): An MMSeg dataset with label maps
            (``seg_map_path`` in its data infos), or its config.
        out_file (str, optional): Where to write. Default:
            ``<data_root>/class_stats.json``, where
            ``UDADataset(rare_class_sampling=dict(class_stats=...))`` looks
            by default.
        nproc (int): Worker processes. Default: 1.
        shard_size (int): Label maps per resumable shard. Default: 200.

    Returns:
        dict: The statistics written.

    Raises:
        ValueError: If the dataset has no label maps, or a label map holds
            values that are neither a class nor the ignore index (naming
            the file).
    """
    ds = build_file_list(dataset)
    name = type(ds).__name__
    if out_file is None:
        out_file = osp.join(ds.data_root or '', STATS_FILE)
    classes = list(ds.metainfo['classes'])
    seg_root = ds.data_prefix.get('seg_map_path') or ds.data_root
    items = []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        path = info.get('seg_map_path')
        if not path:
            raise ValueError(
                f'class stats: {name} sample {info.get("img_path")!r} has no '
                'label map (seg_map_path); statistics need a labeled '
                'dataset (data_prefix.seg_map_path).')
        items.append((stats_key(path, seg_root),
                      (path, info.get('label_map'))))
    counter = DatasetLabelCounter(
        len(classes), getattr(ds, 'ignore_index', 255),
        bool(getattr(ds, 'reduce_zero_label', False)),
        getattr(ds, 'backend_args', None))
    return compute_class_stats(items, counter, classes, out_file,
                               nproc=nproc, shard_size=shard_size,
                               desc=f'{name} class stats')


def format_class_stats(stats: dict, min_pixels: int = 3000) -> str:
    """The per-class pixel table of a statistics dict.

    Columns: class, pixels, share of the labeled pixels, images holding the
    class, images holding more than ``min_pixels`` of it (RCS candidates at
    that threshold).
    """
    from prettytable import PrettyTable
    per_image = np.asarray(list(stats['per_image'].values()),
                           np.int64).reshape(-1, len(stats['classes']))
    total = max(sum(stats['pixel_counts']), 1)
    table = PrettyTable()
    table.field_names = ['Class', 'Pixels', 'Share %', 'Images',
                         f'Images > {min_pixels} px']
    for c, name in enumerate(stats['classes']):
        n = stats['pixel_counts'][c]
        table.add_row([name, n, f'{100.0 * n / total:.3f}',
                       int((per_image[:, c] > 0).sum()),
                       int((per_image[:, c] > min_pixels).sum())])
    table.align['Class'] = 'l'
    return (f'{table.get_string()}\n{stats["num_images"]} label maps, '
            f'{total} labeled and {stats["ignored_pixels"]} ignored pixels.')
