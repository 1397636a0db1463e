"""Example folders for the own-data path: five coast classes, two domains.

:func:`write_example_folders` writes what a user brings: a labelled source
folder (sunny renders, ``.jpg`` images, ``*_mask.png`` labels of train ids)
and an unlabelled target folder (dusk photos: darker, bluer, noisier, other
layout statistics), plus a small labelled target validation split. The
class set, palette and suffixes are not Cityscapes', so the configs written
by ``tools/make_custom_config.py`` for it exercise the generic path
(``docs/custom_dataset.md``, ``tools/make_example_folders.py``).
"""
import os
import os.path as osp
from typing import Dict, Tuple

import cv2
import numpy as np

__all__ = ['EXAMPLE_CLASSES', 'EXAMPLE_PALETTE', 'write_example_folders']

#: Classes of the example (train ids 0..4) and their display colours (RGB).
EXAMPLE_CLASSES = ('sky', 'sea', 'sand', 'rock', 'boat')
EXAMPLE_PALETTE = ((135, 206, 235), (0, 60, 140), (238, 214, 175),
                   (110, 110, 110), (220, 40, 40))
# Mean BGR colour of each class in each domain: the target is a dusk camera.
_COLOURS = {
    'source': np.array([[235, 206, 135], [140, 60, 0], [175, 214, 238],
                        [110, 110, 110], [40, 40, 220]], np.float64),
    'target': np.array([[150, 110, 90], [110, 50, 20], [110, 130, 150],
                        [70, 75, 80], [40, 30, 140]], np.float64),
}


def _scene(rng: np.random.Generator, size: Tuple[int, int],
           domain: str) -> Tuple[np.ndarray, np.ndarray]:
    """A coast scene: sky / sea / sand bands, rocks and a boat."""
    h, w = size
    label = np.zeros((h, w), np.uint8)
    horizon = int(h * rng.uniform(0.3, 0.5))
    shore = int(h * rng.uniform(0.65, 0.85))
    label[horizon:shore] = 1
    label[shore:] = 2
    for _ in range(int(rng.integers(1, 3))):
        rh, rw = int(rng.integers(h // 8, h // 4)), int(
            rng.integers(w // 10, w // 5))
        y, x = int(rng.integers(shore - rh // 2, h - rh + 1)), int(
            rng.integers(0, w - rw))
        label[y:y + rh, x:x + rw] = 3
    bh, bw = int(rng.integers(h // 10, h // 6)), int(
        rng.integers(w // 8, w // 4))
    y = int(rng.integers(horizon, max(horizon + 1, shore - bh)))
    x = int(rng.integers(0, w - bw))
    label[y:y + bh, x:x + bw] = 4
    noise = 6.0 if domain == 'source' else 14.0
    img = _COLOURS[domain][label] + rng.normal(0, noise, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8), label


def _write(path: str, arr: np.ndarray) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    if not cv2.imwrite(path, arr):
        raise OSError(f'could not write {path!r}; check that the folder is '
                      'writable')


def write_example_folders(out: str,
                          num_source: int = 12,
                          num_target: int = 12,
                          num_val: int = 4,
                          size: Tuple[int, int] = (64, 96),
                          seed: int = 0) -> Dict[str, str]:
    """Write the example source, target and target-val folders.

    Layout::

        OUT/source/images/coast_NNN.jpg   OUT/source/labels/coast_NNN_mask.png
        OUT/target/train/dusk_NNN.jpg     (no labels)
        OUT/target/val/images/dusk_NNN.jpg
        OUT/target/val/labels/dusk_NNN_mask.png

    Args:
        out (str): Output root.
        num_source (int): Labelled source images. Default: 12.
        num_target (int): Unlabelled target images. Default: 12.
        num_val (int): Labelled target validation images. Default: 4.
        size (tuple[int, int]): (h, w) of every image. Default: (64, 96).
        seed (int): Seed of the scenes. Default: 0.

    Returns:
        dict[str, str]: The folders, keys ``source_images``,
        ``source_labels``, ``target_images``, ``val_images``,
        ``val_labels``.
    """
    if min(size) < 16:
        raise ValueError(f'write_example_folders: size must be at least '
                         f'16x16, got {size!r}.')
    rng = np.random.default_rng(seed)
    dirs = dict(
        source_images=osp.join(out, 'source', 'images'),
        source_labels=osp.join(out, 'source', 'labels'),
        target_images=osp.join(out, 'target', 'train'),
        val_images=osp.join(out, 'target', 'val', 'images'),
        val_labels=osp.join(out, 'target', 'val', 'labels'))
    for i in range(num_source):
        img, label = _scene(rng, size, 'source')
        _write(osp.join(dirs['source_images'], f'coast_{i:03d}.jpg'), img)
        _write(osp.join(dirs['source_labels'], f'coast_{i:03d}_mask.png'),
               label)
    for i in range(num_target):
        img, _ = _scene(rng, size, 'target')
        _write(osp.join(dirs['target_images'], f'dusk_{i:03d}.jpg'), img)
    for i in range(num_val):
        img, label = _scene(rng, size, 'target')
        _write(osp.join(dirs['val_images'], f'dusk_{i:03d}.jpg'), img)
        _write(osp.join(dirs['val_labels'], f'dusk_{i:03d}_mask.png'), label)
    return dirs
