"""What a pseudo-label set keeps of each class, and a warning without target
labels: :func:`class_share_report`.

Per class, the share of the target pixels the model predicted as that class
(its argmax, before any selection) against the class's share of the pixels
the labels keep. A class whose kept share is far below its predicted share
is one the labels (nearly) never keep: the model sees it, stage 2 does not
train on it. Stage 2's contrastive term then has no anchors or positives of
that class, while the pixels of the class that do carry a label carry
another class's, so the term pulls the class into the others (on a held-out
real case the two classes the labels lost fell from 22.6 to 1.9 and from 5.5
to 0.3 IoU with the contrastive term).

The rule (:data:`FLAG_RATIO`, :data:`MIN_PREDICTED_SHARE`): class ``c`` is
flagged when ``predicted_share[c] >= MIN_PREDICTED_SHARE`` and
``kept_share[c] < FLAG_RATIO * predicted_share[c]``. The ratio of the two
shares is the class's own kept fraction over the set's, so the rule does
not fire on every class when a strict rule keeps few pixels overall. Under
FDA's per-class percentile rule every class keeps at least ``1 -
percentile`` of its predicted pixels (0.34 by default), so its ratio is at
least 0.34 and the flag does not fire at 0.1, except where the histogram
estimate of a threshold lies above every confidence of a class (its few
pixels all in one bin); it fires with a global
``threshold``, a high ``percentile`` or CBST's class-normalized argmax
taking a class's pixels. A class that the labels keep, but under a wrong
name, is invisible without target labels.

The report is ``label_report.json`` beside ``manifest.json``; statistics are
pixel counts (``numpy.bincount``), never a loop over pixels.
"""
import json
import logging
import os.path as osp
from typing import Callable, List, Optional, Sequence

import numpy as np
from mmengine.logging import print_log

from mmseg_fdacl.utils.atomic_io import atomic_write
from .manifest import read_manifest

__all__ = [
    'FLAG_RATIO', 'MIN_PREDICTED_SHARE', 'REPORT_NAME', 'PredictionTally',
    'class_share_report', 'flag_message', 'flagged_classes', 'format_report',
    'log_flag', 'predicted_counts', 'publish_report', 'read_report',
    'report_from_manifest', 'write_report'
]

#: File name of the report, beside ``manifest.json``.
REPORT_NAME = 'label_report.json'
#: A class is flagged when its share of the kept pixels is below this
#: fraction of its share of the predicted pixels (it keeps less than a tenth
#: of what an average class keeps of its predictions).
FLAG_RATIO = 0.1
#: ... and the model predicts it on at least this share of the pixels
#: (0.1%): rarer predictions are too few to matter either way.
MIN_PREDICTED_SHARE = 0.001


def predicted_counts(pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Pixels predicted as each class (``numpy.bincount``).

    Args:
        pred (np.ndarray): Predicted classes (argmax), any shape, ints in
            ``[0, num_classes)``.
        num_classes (int): Number of classes.

    Returns:
        np.ndarray: ``num_classes`` int64 counts.
    """
    flat = np.asarray(pred).reshape(-1).astype(np.int64)
    return np.bincount(flat, minlength=num_classes)[:num_classes]


class PredictionTally:
    """Predicted pixels per class over the images a label pass predicts
    (used where no histogram pass counted them: a global threshold).

    Args:
        num_classes (int): Number of classes.
    """

    def __init__(self, num_classes: int) -> None:
        self.counts = np.zeros(num_classes, np.int64)
        self.images = 0

    def add(self, pred: np.ndarray) -> None:
        """Count one image's prediction."""
        self.counts += predicted_counts(pred, len(self.counts))
        self.images += 1

    def reduce(self, sum_over_ranks: Callable[[np.ndarray],
                                              np.ndarray]) -> None:
        """Sum counts and images over ranks with ``sum_over_ranks``."""
        total = sum_over_ranks(np.append(self.counts, self.images))
        self.counts, self.images = total[:-1], int(total[-1])


def _shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total > 0 else np.zeros_like(counts, float)


def class_share_report(predicted: Sequence[int],
                       kept: Sequence[int],
                       classes: Optional[Sequence[str]] = None,
                       *,
                       flag_ratio: float = FLAG_RATIO,
                       min_predicted_share: float = MIN_PREDICTED_SHARE,
                       source: str = 'histogram pass') -> dict:
    """Per-class predicted and kept shares, and the flagged classes.

    Args:
        predicted (Sequence[int]): Pixels predicted (argmax) as each class.
        kept (Sequence[int]): Pixels the labels keep as each class.
        classes (Sequence[str], optional): Class names. Default: ``'0'``,
            ``'1'``, ...
        flag_ratio (float): See :data:`FLAG_RATIO`.
        min_predicted_share (float): See :data:`MIN_PREDICTED_SHARE`.
        source (str): Where the predicted counts come from (reported).

    Returns:
        dict: ``classes``, ``predicted_pixels``, ``kept_pixels``,
        ``predicted_share``, ``kept_share``, ``kept_fraction`` (kept /
        predicted pixels of the class, None where it has no prediction),
        ``ratio`` (kept share / predicted share, None likewise), the rule
        (``flag_ratio``, ``min_predicted_share``), ``flagged`` (the names,
        most predicted first), ``predicted_source`` and ``consequence``.

    Raises:
        ValueError: Counts of different lengths, negative counts, or a rule
            value out of range.
    """
    pred = np.asarray(predicted, dtype=np.int64)
    keep = np.asarray(kept, dtype=np.int64)
    if pred.ndim != 1 or pred.shape != keep.shape:
        raise ValueError(
            'class_share_report: `predicted` and `kept` must be per-class '
            f'counts of one length, got shapes {pred.shape} and '
            f'{keep.shape}.')
    if (pred < 0).any() or (keep < 0).any():
        raise ValueError('class_share_report: pixel counts must be >= 0.')
    if not 0.0 < flag_ratio <= 1.0:
        raise ValueError('class_share_report: `flag_ratio` must be in '
                         f'(0, 1], got {flag_ratio!r}.')
    if not 0.0 <= min_predicted_share < 1.0:
        raise ValueError('class_share_report: `min_predicted_share` must be '
                         f'in [0, 1), got {min_predicted_share!r}.')
    names = [str(c) for c in classes] if classes else [
        str(i) for i in range(len(pred))
    ]
    if len(names) != len(pred):
        raise ValueError(
            f'class_share_report: {len(names)} class names for '
            f'{len(pred)} counts.')
    p_share, k_share = _shares(pred), _shares(keep)
    seen = pred > 0
    ratio = np.where(seen, k_share / np.where(seen, p_share, 1.0), np.nan)
    fraction = np.where(seen, keep / np.maximum(pred, 1), np.nan)
    flagged = (p_share >= min_predicted_share) & seen & (
        k_share < flag_ratio * p_share)
    order = np.argsort(-p_share, kind='stable')
    report = dict(
        classes=names,
        predicted_pixels=pred.tolist(),
        kept_pixels=keep.tolist(),
        predicted_share=p_share.tolist(),
        kept_share=k_share.tolist(),
        kept_fraction=[None if np.isnan(v) else float(v) for v in fraction],
        ratio=[None if np.isnan(v) else float(v) for v in ratio],
        flag_ratio=float(flag_ratio),
        min_predicted_share=float(min_predicted_share),
        flagged=[names[i] for i in order if flagged[i]],
        predicted_source=source)
    report['consequence'] = flag_message(report)
    return report


def flag_message(report: dict) -> Optional[str]:
    """The warning of a report's flagged classes, or None without any."""
    flagged = report['flagged']
    if not flagged:
        return None
    idx = {n: i for i, n in enumerate(report['classes'])}
    parts = [
        f'{n} (predicted {100 * report["predicted_share"][idx[n]]:.2f}% of '
        f'the pixels, {100 * report["kept_share"][idx[n]]:.2f}% of the kept '
        'labels)' for n in flagged
    ]
    return (
        f'pseudo labels: the model predicts {", ".join(parts)}, but the '
        'labels (nearly) never keep '
        f'{"it" if len(flagged) == 1 else "them"} (kept share < '
        f'{report["flag_ratio"]:g} x predicted share). Stage 2 has (almost) '
        'no labeled pixels of these classes: the contrastive term has no '
        'anchors or positives of them and pulls their pixels into the '
        'classes that are kept, so they tend to collapse into others. Online '
        'self-training (the mean teacher labels every pixel, weighted by its '
        'confidence) or a selection that keeps every class (per-class '
        'percentile thresholds instead of a global threshold) avoids that.')


def format_report(report: dict, with_flag: bool = True) -> str:
    """The per-class table (percent) and, with ``with_flag``, the flag's
    message (or that no class is flagged), for the log."""
    width = max(len(n) for n in report['classes'])
    lines = [
        'pseudo labels, per class: predicted = share of the pixels the '
        f'model predicts as the class ({report["predicted_source"]}), kept '
        '= its share of the kept labels, ratio = kept / predicted share',
        f'{"class":<{width}}  predicted %   kept %   ratio'
    ]
    for i, name in enumerate(report['classes']):
        ratio = report['ratio'][i]
        mark = '  <- flagged' if name in report['flagged'] else ''
        lines.append(
            f'{name:<{width}}  {100 * report["predicted_share"][i]:11.2f}'
            f'  {100 * report["kept_share"][i]:7.2f}  '
            f'{"-" if ratio is None else f"{ratio:6.2f}":>6}{mark}')
    if with_flag:
        lines.append(report['consequence'] or (
            'pseudo labels: no class flagged (every class predicted on >= '
            f'{100 * report["min_predicted_share"]:g}% of the pixels keeps '
            f'>= {report["flag_ratio"]:g} x its predicted share).'))
    return '\n'.join(lines)


def report_from_manifest(
        manifest: dict,
        tally: Optional[PredictionTally] = None) -> Optional[dict]:
    """The report of a complete manifest.

    Args:
        manifest (dict): A complete manifest (``labelled_pixels`` set).
        tally (PredictionTally, optional): Predicted counts to use where the
            manifest has none (a global threshold skips the histogram
            pass; a resumed label pass predicts only the images it labels,
            which the report says). Default: the manifest's
            ``predicted_pixels``.

    Returns:
        dict | None: The report; None without kept or predicted counts.
    """
    kept = manifest.get('labelled_pixels')
    if manifest.get('predicted_pixels') is not None:
        predicted = manifest['predicted_pixels']
        source = f'histogram pass, {manifest.get("num_images")} images'
    elif tally is not None and tally.images > 0:
        predicted = tally.counts
        source = (f'label pass, {tally.images} of '
                  f'{manifest.get("num_images")} images')
    else:
        return None
    if kept is None:
        return None
    return class_share_report(
        predicted, kept, manifest.get('classes') or None, source=source)


def publish_report(out_dir: str,
                   manifest: dict,
                   tally: Optional[PredictionTally] = None,
                   rank: int = 0) -> Optional[dict]:
    """Make, write (rank 0) and log the report of a finished set.

    Returns:
        dict | None: The report, or None where the counts are missing.
    """
    report = report_from_manifest(manifest, tally)
    if report is None:
        print_log(f'pseudo labels in {out_dir}: no per-class report (no '
                  'predicted pixel counts).', logger='current')
        return None
    if rank == 0:
        write_report(out_dir, report)
    print_log(format_report(report, with_flag=not report['flagged']),
              logger='current')
    if report['flagged']:
        print_log(report['consequence'], logger='current',
                  level=logging.WARNING)
    return report


def write_report(out_dir: str, report: dict) -> str:
    """Write ``label_report.json`` (atomically); returns its path."""
    path = osp.join(out_dir, REPORT_NAME)
    atomic_write(path, json.dumps(report, indent=1) + '\n')
    return path


def read_report(out_dir: str) -> Optional[dict]:
    """The report of a pseudo-label folder, or None where there is none."""
    path = osp.join(out_dir, REPORT_NAME)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def flagged_classes(out_dir: str) -> List[str]:
    """The flagged classes of a folder's report (empty without one)."""
    report = read_report(out_dir)
    return list(report['flagged']) if report else []


def log_flag(out_dir: str, logger='current') -> Optional[dict]:
    """Log a pseudo-label folder's flag (what training on it starts with).

    Reads ``label_report.json``, or makes the report from a complete
    ``manifest.json`` of a folder written before reports existed. Flagged
    classes are a warning with their consequence; otherwise one line.

    Args:
        out_dir (str): The pseudo-label folder.
        logger: A logger or logger name for ``print_log``. Default:
            ``'current'``.

    Returns:
        dict | None: The report, or None where there is none.
    """
    report = read_report(out_dir)
    if report is None:
        manifest = read_manifest(out_dir)
        if manifest and manifest.get('complete'):
            report = report_from_manifest(manifest)
    if report is None:
        print_log(f'pseudo labels in {out_dir}: no per-class report.',
                  logger=logger)
        return None
    if report['flagged']:
        print_log(f'{report["consequence"]} (report: '
                  f'{osp.join(out_dir, REPORT_NAME)})', logger=logger,
                  level=logging.WARNING)
    else:
        print_log(f'pseudo labels in {out_dir}: no class flagged (every '
                  'class the model predicts is kept at >= '
                  f'{report["flag_ratio"]:g} x its predicted share).',
                  logger=logger)
    return report
