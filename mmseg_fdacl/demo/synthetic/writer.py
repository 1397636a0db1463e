"""Writing the data tree: rendered scenes as GTA5 and Cityscapes files, in
their real layouts and label encodings, plus per-class statistics."""
import json
import os
import os.path as osp
from typing import List, Optional, Tuple

import cv2
import numpy as np

from mmseg_fdacl.datasets.label_ids import (IGNORE_INDEX, TRAIN_ID_TO_LABEL_ID,
                                            convert_label_ids)
from mmseg_fdacl.utils.atomic_io import atomic_write
from .classes import CLASSES, NUM_CLASSES
from .scene import check_size, image_rng, render_scene

# Cityscapes label id of the ignored region (the recording car's bonnet).
EGO_VEHICLE_LABELID = 1
TRAIN_CITIES = ('aachen', 'bochum', 'bremen', 'hamburg')
VAL_CITIES = ('frankfurt', 'lindau', 'munster')


def trainid_to_labelid(train_ids: np.ndarray) -> np.ndarray:
    """Map train ids to Cityscapes label ids (255 -> ego vehicle, id 1)."""
    lut = np.full(256, EGO_VEHICLE_LABELID, np.uint8)
    lut[:NUM_CLASSES] = TRAIN_ID_TO_LABEL_ID
    return lut[train_ids]


def _write_png(path: str, arr: np.ndarray) -> None:
    if arr.ndim == 3:
        arr = arr[..., ::-1]  # RGB -> BGR for cv2
    if not cv2.imwrite(path, np.ascontiguousarray(arr)):
        raise OSError(f'could not write {path!r}; check the output folder '
                      'is writable')


def _write_palette_png(path: str, label_ids: np.ndarray) -> None:
    """Label ids as a palette PNG, the encoding of GTA5's ``labels/*.png``
    (pixel values are the ids; the palette shows Cityscapes' colors)."""
    from mmseg.datasets import CityscapesDataset
    from PIL import Image
    palette = np.zeros((256, 3), np.uint8)
    palette[list(TRAIN_ID_TO_LABEL_ID)] = CityscapesDataset.METAINFO['palette']
    img = Image.fromarray(label_ids, mode='P')
    img.putpalette(palette.ravel().tolist())
    try:
        img.save(path)
    except OSError as e:
        raise OSError(f'could not write {path!r} ({e}); check the output '
                      'folder is writable') from e


def _generate_one(task: dict) -> np.ndarray:
    """Render and write one image and its labels; return its class counts."""
    rng = image_rng(task['seed'], task['domain'], task['split'], task['index'])
    img, train_ids = render_scene(rng, task['size'], task['domain'])
    label_ids = trainid_to_labelid(train_ids)
    os.makedirs(osp.dirname(task['img']), exist_ok=True)
    os.makedirs(osp.dirname(task['label_ids']), exist_ok=True)
    _write_png(task['img'], img)
    if task['domain'] == 'source':
        _write_palette_png(task['label_ids'], label_ids)
    else:
        _write_png(task['label_ids'], label_ids)
    if task.get('train_ids'):
        _write_png(task['train_ids'], convert_label_ids(label_ids))
    counts = np.bincount(train_ids.ravel(), minlength=256)
    return np.concatenate([counts[:NUM_CLASSES], [counts[IGNORE_INDEX]]])


def _tasks(out_dir: str, num_source: int, num_target_train: int,
           num_target_val: int, size: Tuple[int, int], seed: int,
           source_train_ids: bool) -> List[dict]:
    tasks = []
    gta = osp.join(out_dir, 'gta5')
    for i in range(num_source):
        name = f'{i + 1:05d}'
        tasks.append(
            dict(
                domain='source',
                split='source',
                index=i,
                seed=seed,
                size=size,
                img=osp.join(gta, 'images', name + '.png'),
                label_ids=osp.join(gta, 'labels', name + '.png'),
                train_ids=osp.join(gta, 'labels', name + '_labelTrainIds.png')
                if source_train_ids else None))
    cs = osp.join(out_dir, 'cityscapes')
    for split, num, cities in (('train', num_target_train, TRAIN_CITIES),
                               ('val', num_target_val, VAL_CITIES)):
        for i in range(num):
            city = cities[i % len(cities)]
            stem = f'{city}_{i // len(cities):06d}_000019'
            gt = osp.join(cs, 'gtFine', split, city, stem + '_gtFine_')
            tasks.append(
                dict(
                    domain='target',
                    split=split,
                    index=i,
                    seed=seed,
                    size=size,
                    img=osp.join(cs, 'leftImg8bit', split, city,
                                 stem + '_leftImg8bit.png'),
                    label_ids=gt + 'labelIds.png',
                    train_ids=gt + 'labelTrainIds.png'))
    return tasks


def _stats(counts: np.ndarray, present: np.ndarray, num: int) -> dict:
    total = int(counts[:NUM_CLASSES].sum())
    return dict(
        classes=list(CLASSES),
        num_images=num,
        pixel_counts=[int(v) for v in counts[:NUM_CLASSES]],
        ignored_pixels=int(counts[NUM_CLASSES]),
        frequencies=[float(v) / max(total, 1) for v in counts[:NUM_CLASSES]],
        images_with_class=[int(v) for v in present])


def generate_uda_data(out_dir: str,
                      *,
                      num_source: int,
                      num_target_train: int,
                      num_target_val: int,
                      size: Tuple[int, int] = (256, 512),
                      seed: int = 0,
                      nproc: int = 1,
                      source_train_ids: bool = False,
                      progress: bool = False) -> dict:
    """Write the two-domain data set in the GTA5 and Cityscapes layouts.

    Args:
        out_dir (str): Output root; ``gta5/`` and ``cityscapes/`` are made in
            it. Existing files of the same names are overwritten.
        num_source (int): Number of source (GTA5-layout) images.
        num_target_train (int): Number of target train images (unlabeled
            for adaptation; their labels are written for the oracle and
            pseudo-label evaluation).
        num_target_val (int): Number of target val images.
        size (tuple[int, int]): ``(H, W)`` of every image. Default:
            (256, 512).
        seed (int): Base seed; each image has its own seed derived from it,
            its domain, split and index. Default: 0.
        nproc (int): Worker processes (``mmengine.track_parallel_progress``).
            The output does not depend on it. Default: 1.
        source_train_ids (bool): Also write the source
            ``*_labelTrainIds.png`` (normally the GTA5 converter makes them).
            Default: False.
        progress (bool): Show a progress bar. Default: False.

    Returns:
        dict: ``source_root``, ``target_root``, ``size``, ``seed`` and the
        label statistics ``source``, ``target_train``, ``target_val``, each
        with ``classes``, ``num_images``, ``pixel_counts``,
        ``ignored_pixels``, ``frequencies`` (over labeled pixels) and
        ``images_with_class``. The same dict is saved as
        ``out_dir/synthetic_stats.json``.
    """
    for name, val in (('num_source', num_source), ('num_target_train',
                                                   num_target_train),
                      ('num_target_val', num_target_val)):
        if int(val) != val or val < 0:
            raise ValueError(f'{name}={val!r} must be an integer >= 0')
    if int(nproc) != nproc or nproc < 1:
        raise ValueError(f'nproc={nproc!r} must be an integer >= 1')
    size = check_size(size)
    tasks = _tasks(out_dir, num_source, num_target_train, num_target_val, size,
                   seed, source_train_ids)
    if nproc > 1 and len(tasks) > 1:
        from mmseg_fdacl.utils.progress import track_parallel_progress
        results = track_parallel_progress(
            _generate_one, tasks, nproc, 'synthetic data', keep_order=True)
    elif progress:
        from mmseg_fdacl.utils.progress import track_progress
        results = track_progress(_generate_one, tasks, 'synthetic data')
    else:
        results = [_generate_one(t) for t in tasks]
    out = dict(
        source_root=osp.join(out_dir, 'gta5'),
        target_root=osp.join(out_dir, 'cityscapes'),
        size=list(size),
        seed=seed)
    for key, sel in (('source', 'source'), ('target_train', 'train'),
                     ('target_val', 'val')):
        rows = [r for t, r in zip(tasks, results) if t['split'] == sel]
        arr = np.array(rows, np.int64).reshape(-1, NUM_CLASSES + 1)
        out[key] = _stats(
            arr.sum(0), (arr[:, :NUM_CLASSES] > 0).sum(0), len(rows))
    atomic_write(
        osp.join(out_dir, 'synthetic_stats.json'), json.dumps(out, indent=1))
    return out


def format_class_table(stats: dict, title: Optional[str] = None) -> str:
    """A per-class pixel-frequency table (percent) of ``generate_uda_data``'s
    statistics, one row per split."""
    keys = [
        k for k in ('source', 'target_train', 'target_val')
        if k in stats and stats[k]['num_images']
    ]
    lines = [title] if title else []
    lines.append(f'{"class":<14}' + ''.join(f'{k:>14}' for k in keys))
    for c, name in enumerate(CLASSES):
        lines.append(f'{name:<14}' +
                     ''.join(f'{100 * stats[k]["frequencies"][c]:>13.2f}%'
                             for k in keys))
    lines.append(f'{"images":<14}' + ''.join(f'{stats[k]["num_images"]:>14}'
                                             for k in keys))
    return '\n'.join(lines)
