"""Cross-entropy class weights from the GTA5 converter's pixel statistics.

Weighting schemes: plain inverse frequency; its square root (a milder
re-balancing, as used by e.g. median-frequency-style balancing variants);
and ENet's ``1 / ln(c + p)`` with ``c = 1.02`` (Paszke et al., "ENet: A Deep
Neural Network Architecture for Real-Time Semantic Segmentation", 2016),
which bounds the weights by ``1 / ln(1.02) ~ 50``.

The result is a plain list, for ``loss_decode=dict(type='CrossEntropyLoss',
class_weight=[...])``, or written to JSON for MMSeg's
``class_weight='weights.json'`` (``mmseg.models.losses.utils.get_class_weight``
loads it with ``mmengine.load``).
"""
import json
import math
import warnings
from typing import List, Optional

WEIGHT_METHODS = ('inverse', 'sqrt_inverse', 'log_inverse')
NORMALIZE_MODES = ('mean', 'max', None)

# ENet's constant in 1 / ln(c + p).
_ENET_C = 1.02


def class_weights_from_counts(pixel_counts: List[int],
                              *,
                              method: str = 'inverse',
                              normalize: Optional[str] = 'mean') -> List[float]:
    """Class weights from per-class pixel counts.

    Args:
        pixel_counts (list[int]): Pixels per class (ignored pixels excluded).
        method (str): 'inverse' (``1 / p``), 'sqrt_inverse' (``1 / sqrt(p)``)
            or 'log_inverse' (ENet, ``1 / ln(1.02 + p)``), with ``p`` the
            class's share of the labeled pixels. Default: 'inverse'.
        normalize (str | None): 'mean' scales the weights to mean 1 (the
            loss keeps its magnitude on a uniform class mix), 'max' to a
            largest weight of 1, None leaves them raw. Default: 'mean'.

    Returns:
        list[float]: One weight per class. Classes with no pixel get the
        largest weight of the others (they never occur in the labels the
        stats came from, so the value only matters elsewhere) and a warning.
    """
    if method not in WEIGHT_METHODS:
        raise ValueError(f'class weights: `method` must be one of '
                         f'{WEIGHT_METHODS}, got {method!r}.')
    if normalize not in NORMALIZE_MODES:
        raise ValueError(f'class weights: `normalize` must be one of '
                         f'{NORMALIZE_MODES}, got {normalize!r}.')
    counts = [float(c) for c in pixel_counts]
    if any(c < 0 or not math.isfinite(c) for c in counts):
        raise ValueError('class weights: pixel counts must be finite and '
                         f'>= 0, got {pixel_counts!r}.')
    total = sum(counts)
    if total <= 0:
        raise ValueError('class weights: all pixel counts are 0; the '
                         'statistics hold no labeled pixel.')
    weights = []
    for c in counts:
        p = c / total
        if p == 0:
            weights.append(None)
        elif method == 'inverse':
            weights.append(1.0 / p)
        elif method == 'sqrt_inverse':
            weights.append(1.0 / math.sqrt(p))
        else:
            weights.append(1.0 / math.log(_ENET_C + p))
    present = [w for w in weights if w is not None]
    missing = [i for i, w in enumerate(weights) if w is None]
    if missing:
        warnings.warn(f'class weights: classes {missing} have no pixel in '
                      'the statistics; they get the largest weight of the '
                      'others.')
        weights = [max(present) if w is None else w for w in weights]
    if normalize == 'mean':
        scale = len(weights) / sum(weights)
    elif normalize == 'max':
        scale = 1.0 / max(weights)
    else:
        scale = 1.0
    return [w * scale for w in weights]


def class_weights_from_stats(stats_json_path: str,
                             num_classes: int = 19,
                             method: str = 'inverse',
                             normalize: Optional[str] = 'mean') -> List[float]:
    """Class weights from the converter's ``class_stats.json``.

    Args:
        stats_json_path (str): JSON with ``pixel_counts`` (one int per
            class), as written by ``tools/dataset_converters/gta5.py``.
        num_classes (int): Expected number of classes. Default: 19.
        method (str): See :func:`class_weights_from_counts`.
        normalize (str | None): See :func:`class_weights_from_counts`.

    Returns:
        list[float]: ``num_classes`` weights.
    """
    try:
        with open(stats_json_path, encoding='utf-8') as f:
            stats = json.load(f)
    except FileNotFoundError:
        raise FileNotFoundError(
            f'class weights: {stats_json_path} not found; run '
            'tools/dataset_converters/gta5.py DATA_ROOT to write it.'
        ) from None
    except json.JSONDecodeError as e:
        raise ValueError(
            f'class weights: {stats_json_path} is not valid JSON ({e}).'
        ) from None
    counts = stats.get('pixel_counts') if isinstance(stats, dict) else None
    if not isinstance(counts, list) or not all(
            isinstance(c, (int, float)) and not isinstance(c, bool)
            for c in counts):
        raise ValueError(
            f'class weights: {stats_json_path} needs key `pixel_counts`, a '
            f'list of {num_classes} numbers; got {counts!r}.')
    if len(counts) != num_classes:
        raise ValueError(
            f'class weights: `pixel_counts` in {stats_json_path} has '
            f'{len(counts)} entries, expected num_classes={num_classes}.')
    return class_weights_from_counts(
        counts, method=method, normalize=normalize)
