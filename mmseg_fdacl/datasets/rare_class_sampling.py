"""Rare Class Sampling (Hoyer et al., "DAFormer", CVPR 2022, Sec. 3.3).

Source images are drawn class-first: a class ``c`` with probability
``p_c = softmax((1 - f_c) / T)``, where ``f_c`` is the share of the labeled
source pixels that belong to ``c``, then an image uniformly among the images
holding more than ``min_pixels`` pixels of ``c`` (strictly, as DAFormer). Optionally the source crop is
redrawn until it holds enough pixels of ``c`` (the rare-class-aware crop).

The idea and the formula are DAFormer's (``mmseg/datasets/uda_dataset.py`` of
lhoyer/DAFormer); unlike there, a draw is a pure function of
``(seed, pass, index)`` rather than of numpy's global state, so every loader
worker, every rank and a resumed run draw the same images. The statistics are
the ``class_stats.json`` written by :func:`mmseg_fdacl.datasets.gta5.
convert_gta5_labels` (``tools/dataset_converters/gta5.py``).
"""
import json
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

__all__ = [
    'RARE_CLASS_SAMPLING_DEFAULTS', 'check_rare_class_sampling',
    'rare_class_probabilities', 'rare_class_candidates',
    'draw_rare_class_sample', 'rare_class_crop', 'load_class_stats',
    'RareClassSampler'
]

#: The keys of ``UDADataset(rare_class_sampling=...)`` and their defaults
#: (DAFormer's: ``min_pixels=3000, class_temp=0.01, min_crop_ratio=0.5``).
RARE_CLASS_SAMPLING_DEFAULTS: Dict[str, Any] = dict(
    class_stats='class_stats.json',
    temperature=0.01,
    min_pixels=3000,
    min_crop_ratio=0.5)

# How often the source pipeline is rerun for a crop holding the drawn class
# (DAFormer's 10).
MAX_RECROPS = 10
# Tells the draws apart from UDADataset's target pairing, which seeds its
# generator with the same (seed, epoch, index) words.
_SPAWN_KEY = (0x524353, )
_CONVERTER = 'python tools/dataset_converters/gta5.py <source data_root>'


def check_rare_class_sampling(cfg: dict) -> Dict[str, Any]:
    """Validate the ``rare_class_sampling`` option and fill in defaults.

    Args:
        cfg (dict): Any of the keys of :data:`RARE_CLASS_SAMPLING_DEFAULTS`.

    Returns:
        dict: All the keys, defaults filled in.

    Raises:
        ValueError: Naming an unknown key or a value out of range.
    """
    if not isinstance(cfg, dict):
        raise ValueError('UDADataset: `rare_class_sampling` must be a dict '
                         f'with keys {sorted(RARE_CLASS_SAMPLING_DEFAULTS)} '
                         f'or None, got {cfg!r}.')
    unknown = sorted(set(cfg) - set(RARE_CLASS_SAMPLING_DEFAULTS))
    if unknown:
        raise ValueError(
            f'UDADataset: unknown key(s) {unknown} in `rare_class_sampling`; '
            f'the keys are {sorted(RARE_CLASS_SAMPLING_DEFAULTS)}.')
    out = dict(RARE_CLASS_SAMPLING_DEFAULTS, **cfg)
    if not isinstance(out['class_stats'], str) or not out['class_stats']:
        raise ValueError(
            '`rare_class_sampling.class_stats` must be a path to the '
            f"converter's class_stats.json, got {out['class_stats']!r}.")
    _check_temperature(out['temperature'])
    _check_min_pixels(out['min_pixels'])
    _check_min_crop_ratio(out['min_crop_ratio'])
    out['temperature'] = float(out['temperature'])
    out['min_crop_ratio'] = float(out['min_crop_ratio'])
    return out


def _check_temperature(temperature: Any) -> None:
    if isinstance(temperature, bool) or not isinstance(
            temperature, (int, float)) or not temperature > 0:
        raise ValueError('`rare_class_sampling.temperature` must be a number '
                         f'> 0, got {temperature!r}.')


def _check_min_pixels(min_pixels: Any) -> None:
    if isinstance(min_pixels, bool) or not isinstance(
            min_pixels, int) or min_pixels < 1:
        raise ValueError('`rare_class_sampling.min_pixels` must be an int '
                         f'>= 1, got {min_pixels!r}.')


def _check_min_crop_ratio(ratio: Any) -> None:
    if isinstance(ratio, bool) or not isinstance(
            ratio, (int, float)) or not ratio >= 0:
        raise ValueError('`rare_class_sampling.min_crop_ratio` must be a '
                         f'number >= 0 (0 turns the rare-class crop off), '
                         f'got {ratio!r}.')


def rare_class_probabilities(pixel_counts: Sequence[int],
                             temperature: float = 0.01,
                             available: Optional[Sequence[bool]] = None
                             ) -> np.ndarray:
    """Class probabilities ``softmax((1 - f_c) / temperature)``.

    Args:
        pixel_counts (Sequence[int]): Labeled pixels of each class (ignored
            pixels excluded).
        temperature (float): Softmax temperature; smaller favors rare classes
            more. Default: 0.01.
        available (Sequence[bool], optional): Classes that can be drawn;
            the others get probability 0 and the rest is renormalized.
            Default: None (all).

    Returns:
        np.ndarray: float64 probabilities, one per class, summing to 1.

    Raises:
        ValueError: If the counts are negative or all zero, the temperature
            is not positive, or no class is available.
    """
    _check_temperature(temperature)
    counts = np.asarray(pixel_counts, dtype=np.float64)
    if counts.ndim != 1 or (counts < 0).any() or counts.sum() <= 0:
        raise ValueError('pixel_counts must be a 1-D sequence of counts >= 0 '
                         f'with a positive sum, got {pixel_counts!r}.')
    mask = np.ones(len(counts), bool) if available is None else np.asarray(
        available, bool)
    if mask.shape != counts.shape or not mask.any():
        raise ValueError(f'available must mark at least one of the '
                         f'{len(counts)} classes, got {available!r}.')
    logits = (1.0 - counts / counts.sum()) / temperature
    # Subtracting the maximum keeps exp() finite at small temperatures.
    logits = np.where(mask, logits - logits[mask].max(), -np.inf)
    probs = np.exp(logits)
    return probs / probs.sum()


def rare_class_candidates(per_image: np.ndarray,
                          min_pixels: int = 3000) -> List[np.ndarray]:
    """Per class, the images holding more than ``min_pixels`` of it.

    Args:
        per_image (np.ndarray): ``(num_images, num_classes)`` pixel counts.
        min_pixels (int): Fewest pixels of a class that make an image a
            candidate for it. Default: 3000.

    Returns:
        list[np.ndarray]: For each class, the sorted image indices (empty
        where no image qualifies).
    """
    _check_min_pixels(min_pixels)
    per_image = np.asarray(per_image)
    if per_image.ndim != 2:
        raise ValueError('per_image must be a (num_images, num_classes) '
                         f'array, got shape {per_image.shape}.')
    # Strictly more, as DAFormer's ``samples_with_class``.
    return [np.flatnonzero(per_image[:, c] > min_pixels)
            for c in range(per_image.shape[1])]


def draw_rare_class_sample(rng: np.random.Generator, probs: np.ndarray,
                           candidates: Sequence[np.ndarray]
                           ) -> Tuple[int, int]:
    """One draw: a class ``c ~ probs``, then one of its candidate images.

    Args:
        rng (np.random.Generator): The generator of this draw.
        probs (np.ndarray): Class probabilities
            (:func:`rare_class_probabilities`); classes without candidates
            must have probability 0.
        candidates (Sequence[np.ndarray]): Image indices per class
            (:func:`rare_class_candidates`).

    Returns:
        tuple[int, int]: The class and the image index.
    """
    c = int(rng.choice(len(probs), p=probs))
    pool = candidates[c]
    return c, int(pool[rng.integers(len(pool))])


def rare_class_crop(load: Callable[[], dict], class_id: int,
                    min_pixels: float,
                    max_tries: int = MAX_RECROPS) -> dict:
    """Rerun a random-crop pipeline until the crop holds a class.

    Args:
        load (Callable[[], dict]): Returns a packed sample
            (``data_samples.gt_sem_seg``), a new random crop on each call.
        class_id (int): The class the crop should hold.
        min_pixels (float): Pixels of ``class_id`` that are enough; 0 keeps
            the first crop.
        max_tries (int): Crops drawn after the first at most. Default: 10.

    Returns:
        dict: The first sample with enough pixels, else the last one.
    """
    item = load()
    for _ in range(max_tries if min_pixels > 0 else 0):
        data_sample = item.get('data_samples')
        seg = getattr(data_sample, 'gt_sem_seg', None)
        if seg is None:
            raise KeyError(
                'rare-class crop: the source sample has no '
                '`data_samples.gt_sem_seg`; put LoadAnnotations and '
                'PackSegInputs in the source pipeline, or set '
                '`rare_class_sampling.min_crop_ratio=0`.')
        # Strictly more, as DAFormer's rare-class crop.
        if int((seg.data == class_id).sum()) > min_pixels:
            break
        item = load()
    return item


def _stats_key(seg_map_path: str, seg_map_suffix: str) -> Tuple[str, ...]:
    """Names a label map may have in ``per_image``.

    The converter keys the label-id file it read (``00001.png``); the
    dataset reads the train-id map it wrote (``00001_labelTrainIds.png``).
    """
    name = osp.basename(seg_map_path)
    if seg_map_suffix and name.endswith(seg_map_suffix) and (
            name != seg_map_suffix):
        return name, name[:-len(seg_map_suffix)] + '.png'
    return name,


def load_class_stats(path: str, seg_map_paths: Sequence[str],
                     classes: Sequence[str],
                     seg_map_suffix: str = '') -> np.ndarray:
    """Per-image class pixel counts of a dataset, from ``class_stats.json``.

    Args:
        path (str): The converter's ``class_stats.json``.
        seg_map_paths (Sequence[str]): Label map of each dataset image, in
            dataset order; matched to ``per_image`` by file name (as is, or
            with ``seg_map_suffix`` replaced by ``.png``).
        classes (Sequence[str]): The dataset's class names.
        seg_map_suffix (str): The dataset's label-map suffix. Default: ''.

    Returns:
        np.ndarray: int64 ``(len(seg_map_paths), len(classes))`` counts.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ValueError: If the file is malformed, was made for other classes, or
            lacks an image of the dataset.
    """
    rerun = f'rerun `{_CONVERTER}` to write it.'
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'rare class sampling: class statistics {path!r} not found; '
            f'{rerun}')
    try:
        with open(path) as f:
            stats = json.load(f)
        per_image = stats['per_image']
        names = list(stats['classes'])
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(
            f'rare class sampling: {path!r} is not a class_stats.json with '
            f'`classes` and `per_image` ({e!r}); {rerun}') from e
    classes = list(classes)
    if names != classes:
        raise ValueError(
            f'rare class sampling: {path!r} was made for {len(names)} '
            f'classes {names} but the source dataset has {len(classes)} '
            f'{classes}; {rerun}')
    rows = []
    for seg_map_path in seg_map_paths:
        keys = _stats_key(seg_map_path, seg_map_suffix)
        key = next((k for k in keys if k in per_image), None)
        if key is None:
            raise ValueError(
                f'rare class sampling: {path!r} has no entry for label map '
                f'{seg_map_path!r} (looked for {list(keys)} in per_image, '
                f'{len(per_image)} entries); the statistics are of another '
                f'image set, {rerun}')
        row = per_image[key]
        if not isinstance(row, list) or len(row) != len(classes):
            raise ValueError(
                f'rare class sampling: per_image[{key!r}] in {path!r} must '
                f'hold {len(classes)} pixel counts, got {row!r}; {rerun}')
        rows.append(row)
    return np.asarray(rows, dtype=np.int64).reshape(-1, len(classes))


class RareClassSampler:
    """Draws source images class-first, as a pure function of the index.

    Args:
        per_image (np.ndarray): ``(num_images, num_classes)`` pixel counts
            of the source images, in dataset order.
        temperature (float): Softmax temperature. Default: 0.01.
        min_pixels (int): Fewest pixels of a class for an image to be drawn
            for it. Default: 3000.
        min_crop_ratio (float): The crop should hold
            ``min_crop_ratio * min_pixels`` pixels of the drawn class; 0
            turns the rare-class crop off. Default: 0.5.

    Raises:
        ValueError: If a setting is out of range or no class has an image
            with ``min_pixels`` pixels.
    """

    def __init__(self,
                 per_image: np.ndarray,
                 *,
                 temperature: float = 0.01,
                 min_pixels: int = 3000,
                 min_crop_ratio: float = 0.5) -> None:
        _check_min_crop_ratio(min_crop_ratio)
        self.temperature = temperature
        self.min_pixels = min_pixels
        self.min_crop_ratio = min_crop_ratio
        per_image = np.asarray(per_image, dtype=np.int64)
        self.candidates = rare_class_candidates(per_image, min_pixels)
        available = [len(c) > 0 for c in self.candidates]
        if not any(available):
            raise ValueError(
                'rare class sampling: no source image holds '
                f'`min_pixels`={min_pixels} pixels of any class (the largest '
                f'count is {int(per_image.max(initial=0))}); lower '
                '`rare_class_sampling.min_pixels`.')
        self.probs = rare_class_probabilities(per_image.sum(axis=0),
                                              temperature, available)

    @property
    def min_crop_pixels(self) -> float:
        """Pixels of the drawn class that make a crop good enough."""
        return self.min_crop_ratio * self.min_pixels

    def settings(self) -> Dict[str, float]:
        """What the draws depend on besides the statistics."""
        return dict(temperature=self.temperature, min_pixels=self.min_pixels,
                    min_crop_ratio=self.min_crop_ratio)

    def draw(self, seed: int, epoch: int, idx: int) -> Tuple[int, int]:
        """The class and source image of position ``idx`` in pass ``epoch``.

        Returns:
            tuple[int, int]: The class and the source index.
        """
        seq = np.random.SeedSequence([seed, epoch, idx], spawn_key=_SPAWN_KEY)
        return draw_rare_class_sample(
            np.random.default_rng(seq), self.probs, self.candidates)

    @classmethod
    def from_dataset(cls, dataset: Any, *, class_stats: str,
                     **settings: Any) -> 'RareClassSampler':
        """Build from a source dataset and its ``class_stats.json``.

        Args:
            dataset: A fully initialized MMSeg dataset with ``seg_map_path``
                in its data infos.
            class_stats (str): Path, absolute or relative to the dataset's
                ``data_root``.
            **settings: ``temperature``, ``min_pixels``, ``min_crop_ratio``.

        Returns:
            RareClassSampler: The sampler over the dataset's indices.
        """
        path = osp.join(getattr(dataset, 'data_root', None) or '',
                        class_stats)
        seg_maps = [
            dataset.get_data_info(i)['seg_map_path']
            for i in range(len(dataset))
        ]
        per_image = load_class_stats(path, seg_maps,
                                     dataset.metainfo['classes'],
                                     getattr(dataset, 'seg_map_suffix', ''))
        return cls(per_image, **settings)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(temperature={self.temperature}, '
                f'min_pixels={self.min_pixels}, '
                f'min_crop_ratio={self.min_crop_ratio})')
