"""Rare Class Sampling (Hoyer et al., "DAFormer", CVPR 2022, Sec. 3.3).

Source images are drawn class-first: a class ``c`` with probability
``p_c = softmax((1 - f_c) / T)``, where ``f_c`` is the share of the labeled
source pixels that belong to ``c``, then an image uniformly among the images
holding more than ``min_pixels`` pixels of ``c`` (strictly, as DAFormer). Optionally the source crop is
redrawn until it holds enough pixels of ``c`` (the rare-class-aware crop).

The threshold. DAFormer's ``min_pixels=3000`` is an absolute count on the
label maps at the resolution the statistics were taken at (GTA5's
1914x1052 frames: 3000 px are 0.15% of a frame), and the crop must hold
``min_crop_ratio * min_pixels`` = 1500 px of the class (0.57% of a 512x512
crop). On small images such a count excludes every image of a class
(DAFormer#60: 250x484 medical images). ``min_pixels_fraction`` states the
rule relative to image size instead: an image is a candidate for ``c`` when
``c`` covers more than ``min_pixels_fraction`` of its labeled pixels (the
row sum of its ``per_image`` entry), and the crop must hold
``min_crop_ratio * min_pixels_fraction`` of the crop's labeled pixels. Left
at None (the default) the absolute ``min_pixels`` applies, DAFormer's
behaviour; ``min_pixels_fraction=0.0015`` reproduces DAFormer's threshold
on full GTA5 frames for any image size. A class that has labeled pixels but
no image above the threshold is an error naming the class and the
statistics file (DAFormer would fail drawing from an empty list); classes
without any pixel (e.g. SYNTHIA's terrain, truck, train) are never drawn.

The idea and the formula are DAFormer's (``mmseg/datasets/uda_dataset.py`` of
lhoyer/DAFormer); unlike there, a draw is a pure function of
``(seed, pass, index)`` rather than of numpy's global state, so every loader
worker, every rank and a resumed run draw the same images. The statistics are
the ``class_stats.json`` written by :mod:`mmseg_fdacl.datasets.class_stats`
(``tools/dataset_converters/class_stats.py CONFIG`` for any dataset; the
GTA5 and SYNTHIA converters write it too).
"""
import json
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from .class_stats import stats_key

__all__ = [
    'RARE_CLASS_SAMPLING_DEFAULTS', 'check_rare_class_sampling',
    'rare_class_probabilities', 'image_thresholds', 'rare_class_candidates',
    'draw_rare_class_sample', 'rare_class_crop', 'load_class_stats',
    'RareClassSampler'
]

#: The keys of ``UDADataset(rare_class_sampling=...)`` and their defaults
#: (DAFormer's: ``min_pixels=3000, class_temp=0.01, min_crop_ratio=0.5``).
RARE_CLASS_SAMPLING_DEFAULTS: Dict[str, Any] = dict(
    class_stats='class_stats.json',
    temperature=0.01,
    min_pixels=3000,
    min_pixels_fraction=None,
    min_crop_ratio=0.5)

# How often the source pipeline is rerun for a crop holding the drawn class
# (DAFormer's 10).
MAX_RECROPS = 10
# Tells the draws apart from UDADataset's target pairing, which seeds its
# generator with the same (seed, epoch, index) words.
_SPAWN_KEY = (0x524353, )
_CONVERTER = ('python tools/dataset_converters/class_stats.py CONFIG (or '
              'tools/dataset_converters/gta5.py / synthia.py <data_root>)')


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
    _check_min_pixels_fraction(out['min_pixels_fraction'])
    if out['min_pixels_fraction'] is not None and 'min_pixels' in cfg:
        raise ValueError(
            '`rare_class_sampling`: give either `min_pixels` (an absolute '
            'count) or `min_pixels_fraction` (a share of each image), not '
            f"both; got min_pixels={cfg['min_pixels']!r}, "
            f"min_pixels_fraction={cfg['min_pixels_fraction']!r}.")
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


def _check_min_pixels_fraction(fraction: Any) -> None:
    if fraction is None:
        return
    if isinstance(fraction, bool) or not isinstance(
            fraction, (int, float)) or not 0 < fraction < 1:
        raise ValueError('`rare_class_sampling.min_pixels_fraction` must be '
                         'a number in (0, 1) or None, got '
                         f'{fraction!r}.')


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


def image_thresholds(per_image: np.ndarray, min_pixels: int = 3000,
                     min_pixels_fraction: Optional[float] = None
                     ) -> np.ndarray:
    """The pixel count each image must exceed to be a class's candidate.

    Args:
        per_image (np.ndarray): ``(num_images, num_classes)`` pixel counts.
        min_pixels (int): The absolute threshold. Default: 3000.
        min_pixels_fraction (float, optional): Instead, this share of each
            image's labeled pixels. Default: None.

    Returns:
        np.ndarray: float64 threshold per image.
    """
    per_image = np.asarray(per_image)
    if min_pixels_fraction is None:
        return np.full(len(per_image), float(min_pixels))
    _check_min_pixels_fraction(min_pixels_fraction)
    return min_pixels_fraction * per_image.sum(axis=1).astype(np.float64)


def rare_class_candidates(per_image: np.ndarray,
                          min_pixels: int = 3000,
                          min_pixels_fraction: Optional[float] = None
                          ) -> List[np.ndarray]:
    """Per class, the images holding more than the threshold of it.

    Args:
        per_image (np.ndarray): ``(num_images, num_classes)`` pixel counts.
        min_pixels (int): Fewest pixels of a class that make an image a
            candidate for it. Default: 3000.
        min_pixels_fraction (float, optional): Instead, the share of the
            image's labeled pixels the class must exceed. Default: None.

    Returns:
        list[np.ndarray]: For each class, the sorted image indices (empty
        where no image qualifies).
    """
    _check_min_pixels(min_pixels)
    per_image = np.asarray(per_image)
    if per_image.ndim != 2:
        raise ValueError('per_image must be a (num_images, num_classes) '
                         f'array, got shape {per_image.shape}.')
    thresholds = image_thresholds(per_image, min_pixels, min_pixels_fraction)
    # Strictly more, as DAFormer's ``samples_with_class``.
    return [np.flatnonzero(per_image[:, c] > thresholds)
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
                    max_tries: int = MAX_RECROPS,
                    *,
                    min_fraction: Optional[float] = None,
                    ignore_index: int = 255) -> dict:
    """Rerun a random-crop pipeline until the crop holds a class.

    Args:
        load (Callable[[], dict]): Returns a packed sample
            (``data_samples.gt_sem_seg``), a new random crop on each call.
        class_id (int): The class the crop should hold.
        min_pixels (float): Pixels of ``class_id`` that are enough; 0 keeps
            the first crop.
        max_tries (int): Crops drawn after the first at most. Default: 10.
        min_fraction (float, optional): Instead of ``min_pixels``, the share
            of the crop's labeled pixels that is enough. Default: None.
        ignore_index (int): Not a labeled pixel. Default: 255.

    Returns:
        dict: The first sample with enough pixels, else the last one.
    """
    item = load()
    enabled = min_pixels > 0 if min_fraction is None else min_fraction > 0
    for _ in range(max_tries if enabled else 0):
        data_sample = item.get('data_samples')
        seg = getattr(data_sample, 'gt_sem_seg', None)
        if seg is None:
            raise KeyError(
                'rare-class crop: the source sample has no '
                '`data_samples.gt_sem_seg`; put LoadAnnotations and '
                'PackSegInputs in the source pipeline, or set '
                '`rare_class_sampling.min_crop_ratio=0`.')
        enough = min_pixels if min_fraction is None else (
            min_fraction * int((seg.data != ignore_index).sum()))
        # Strictly more, as DAFormer's rare-class crop.
        if int((seg.data == class_id).sum()) > enough:
            break
        item = load()
    return item


def _stats_key(seg_map_path: str, seg_map_suffix: str,
               seg_root: Optional[str] = None) -> Tuple[str, ...]:
    """Names a label map may have in ``per_image``.

    :func:`~mmseg_fdacl.datasets.class_stats.dataset_class_stats` keys the
    path below the label folder (``city/name.png``); the GTA5 and SYNTHIA
    converters key the label-id file they read (``00001.png``) while the
    dataset reads the train-id map they wrote (``00001_labelTrainIds.png``).
    """
    name = osp.basename(seg_map_path)
    keys = [stats_key(seg_map_path, seg_root), name]
    if seg_map_suffix and name.endswith(seg_map_suffix) and (
            name != seg_map_suffix):
        keys.append(name[:-len(seg_map_suffix)] + '.png')
    return tuple(dict.fromkeys(keys))


def load_class_stats(path: str, seg_map_paths: Sequence[str],
                     classes: Sequence[str],
                     seg_map_suffix: str = '',
                     seg_root: Optional[str] = None) -> np.ndarray:
    """Per-image class pixel counts of a dataset, from ``class_stats.json``.

    Args:
        path (str): The converter's ``class_stats.json``.
        seg_map_paths (Sequence[str]): Label map of each dataset image, in
            dataset order; matched to ``per_image`` by file name (as is, or
            with ``seg_map_suffix`` replaced by ``.png``).
        classes (Sequence[str]): The dataset's class names.
        seg_map_suffix (str): The dataset's label-map suffix. Default: ''.
        seg_root (str, optional): The dataset's label folder; keys are
            looked up relative to it first. Default: None.

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
        keys = _stats_key(seg_map_path, seg_map_suffix, seg_root)
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
        min_pixels_fraction (float, optional): Instead, the share of an
            image's labeled pixels (module docstring). Default: None.
        min_crop_ratio (float): The crop should hold ``min_crop_ratio`` times
            the threshold of the drawn class; 0 turns the rare-class crop
            off. Default: 0.5.
        classes (Sequence[str], optional): Class names, for messages.
        image_names (Sequence[str], optional): Label map of each row, for
            messages.
        stats_file (str, optional): Where ``per_image`` came from, for
            messages.

    Raises:
        ValueError: If a setting is out of range, or a class with labeled
            pixels has no image above the threshold (naming the class and
            the statistics file).
    """

    def __init__(self,
                 per_image: np.ndarray,
                 *,
                 temperature: float = 0.01,
                 min_pixels: int = 3000,
                 min_pixels_fraction: Optional[float] = None,
                 min_crop_ratio: float = 0.5,
                 classes: Optional[Sequence[str]] = None,
                 image_names: Optional[Sequence[str]] = None,
                 stats_file: Optional[str] = None) -> None:
        _check_min_crop_ratio(min_crop_ratio)
        self.temperature = temperature
        self.min_pixels = min_pixels
        self.min_pixels_fraction = min_pixels_fraction
        self.min_crop_ratio = min_crop_ratio
        per_image = np.asarray(per_image, dtype=np.int64)
        self.candidates = rare_class_candidates(per_image, min_pixels,
                                                min_pixels_fraction)
        present = per_image.sum(axis=0) > 0
        for c in np.flatnonzero(present):
            if not len(self.candidates[c]):
                self._raise_no_candidate(per_image, int(c), classes,
                                         image_names, stats_file)
        if not present.any():
            raise ValueError(
                'rare class sampling: the class statistics '
                f'{stats_file or ""!r} hold no labeled pixel; recompute them '
                f'with `{_CONVERTER}`.')
        self.probs = rare_class_probabilities(per_image.sum(axis=0),
                                              temperature, present)

    def _threshold_text(self) -> str:
        if self.min_pixels_fraction is None:
            return f'`min_pixels`={self.min_pixels} pixels'
        return (f'`min_pixels_fraction`={self.min_pixels_fraction} of its '
                'labeled pixels')

    def _raise_no_candidate(self, per_image: np.ndarray, c: int,
                            classes: Optional[Sequence[str]],
                            image_names: Optional[Sequence[str]],
                            stats_file: Optional[str]) -> None:
        name = classes[c] if classes is not None else f'class {c}'
        best = int(per_image[:, c].argmax())
        where = image_names[best] if image_names is not None else \
            f'image {best}'
        share = per_image[best, c] / max(int(per_image[best].sum()), 1)
        raise ValueError(
            f'rare class sampling: class {name!r} (id {c}) has '
            f'{int(per_image[:, c].sum())} pixels in the class statistics '
            f'{stats_file or ""!r}, but no image holds more than '
            f'{self._threshold_text()} of it (the most: '
            f'{int(per_image[best, c])} pixels, {share:.5f} of the labeled '
            f'pixels, in {where!r}); lower `rare_class_sampling.min_pixels`'
            ', or set `min_pixels_fraction` below that share for images of '
            'this size.')

    @property
    def min_crop_pixels(self) -> float:
        """Pixels of the drawn class that make a crop good enough (absolute
        rule; with ``min_pixels_fraction`` see :attr:`min_crop_fraction`)."""
        return self.min_crop_ratio * self.min_pixels

    @property
    def min_crop_fraction(self) -> Optional[float]:
        """Share of a crop's labeled pixels that is enough, or None."""
        if self.min_pixels_fraction is None:
            return None
        return self.min_crop_ratio * self.min_pixels_fraction

    def settings(self) -> Dict[str, Any]:
        """What the draws depend on besides the statistics."""
        return dict(temperature=self.temperature, min_pixels=self.min_pixels,
                    min_pixels_fraction=self.min_pixels_fraction,
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
            **settings: ``temperature``, ``min_pixels``,
                ``min_pixels_fraction``, ``min_crop_ratio``.

        Returns:
            RareClassSampler: The sampler over the dataset's indices.
        """
        path = osp.join(getattr(dataset, 'data_root', None) or '',
                        class_stats)
        seg_maps = [
            dataset.get_data_info(i)['seg_map_path']
            for i in range(len(dataset))
        ]
        prefix = getattr(dataset, 'data_prefix', {}) or {}
        classes = dataset.metainfo['classes']
        per_image = load_class_stats(path, seg_maps, classes,
                                     getattr(dataset, 'seg_map_suffix', ''),
                                     prefix.get('seg_map_path'))
        return cls(per_image, classes=classes, stats_file=path,
                   image_names=seg_maps, **settings)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(temperature={self.temperature}, '
                f'min_pixels={self.min_pixels}, '
                f'min_pixels_fraction={self.min_pixels_fraction}, '
                f'min_crop_ratio={self.min_crop_ratio})')
