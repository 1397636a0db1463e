"""The two-pass, sharded, resumable driver: :func:`generate_pseudo_labels`.

1. **Pass 1, histograms.** Per class, a histogram (``num_bins`` bins over
   [0, 1]) of the confidences of the pixels predicted as that class
   (:mod:`.thresholds`). Under ``torch.distributed`` every rank handles
   images ``rank::world_size`` and the histograms are summed with
   ``mmengine.dist.all_reduce``. Rank 0 stores the per-class values in
   ``manifest.json`` (``thresholds``: FDA's thresholds, or CBST's
   normalizers ``k_c`` with ``selection='cbst'``). With a global
   ``threshold`` this pass is skipped.
2. **Pass 2, labels.** The prediction is recomputed (nothing per image is
   kept between passes: no memory or disk that grows with the set) and
   written as a uint8 PNG at :func:`mmseg_fdacl.utils.pseudo_label_path`:
   ``label = argmax if confidence >= threshold[argmax] else 255`` (FDA), or
   ``argmax_c p_c / k_c`` where ``max_c p_c / k_c >= 1``, else 255 (CBST,
   which needs every class's score: the predictor's ``probabilities``).

``manifest.json`` is written before anything else, again when thresholds are
final and at the end with ``complete: true``; then ``label_report.json``
(:mod:`.report`: per class the share predicted against the share kept, and
the classes the labels nearly never keep), also logged. A run on a folder
whose manifest is complete for the same settings writes nothing; an
interrupted run resumes: stored thresholds are reused and only images
without a PNG are labeled (:mod:`.manifest` refuses folders made with other
settings).
"""
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import (Callable, Iterable, Iterator, List, Optional, Protocol,
                    Sequence, Tuple, Union)

import cv2
import numpy as np
import torch
from mmengine.config import ConfigDict
from mmengine.dist import all_reduce, barrier, get_dist_info
from mmengine.logging import print_log
from torch import nn

from mmseg_fdacl.datasets.file_list import image_paths
from mmseg_fdacl.datasets.label_ids import IGNORE_INDEX
from mmseg_fdacl.utils import pseudo_label_path
from mmseg_fdacl.utils.progress import progress_bar
from .config import inference_pipeline_from_cfg
from .files import (DatasetLike, file_list, image_root,
                    remove_stale_temporary_files, write_png)
from .manifest import (make_settings, new_manifest, reusable_manifest,
                       sha256_json, write_manifest)
from .predictor import Predictor, build_models
from .report import PredictionTally, publish_report
from .thresholds import (SELECTIONS, apply_class_balanced, apply_thresholds,
                         class_balanced_normalizers, confidence_histogram,
                         thresholds_from_histograms)

__all__ = [
    'ImageCallback', 'SETTING_NAMES', 'generate_pseudo_labels',
    'validate_arguments', 'validate_settings'
]

#: The keyword settings of :func:`generate_pseudo_labels` that change the
#: labels (what :class:`~mmseg_fdacl.engine.hooks.PseudoLabelHook` passes
#: on).
SETTING_NAMES = ('beta', 'reference', 'seed', 'grayscale', 'percentile',
                 'cap', 'threshold', 'num_bins', 'selection', 'portion')

ImageCallback = Callable[[int, str], None]


class _Bar(Protocol):
    """What :func:`mmseg_fdacl.utils.progress.progress_bar` returns."""

    def update(self, num_tasks: int = 1) -> None:
        ...

    def close(self) -> None:
        ...


@dataclass
class _Images:
    """The target images a run labels and the source images FDA draws."""

    root: str
    paths: List[str]
    rel_paths: List[str]
    classes: List[str]
    source_paths: List[str]


@dataclass
class _Run:
    """What the passes of one run share."""

    out_dir: str
    images: _Images
    predictor: Predictor
    num_classes: int
    show_progress: bool
    rank: int
    world_size: int
    selection: str = 'fda'
    shard: List[int] = field(init=False)

    def __post_init__(self) -> None:
        self.shard = list(
            range(self.rank, len(self.images.paths), self.world_size))

    def progress(self, task: str) -> Optional[_Bar]:
        """A progress bar over this rank's shard (rank 0 only), or None."""
        if not (self.show_progress and self.rank == 0):
            return None
        print_log(f'pseudo labels: {task} ({len(self.images.paths)} images, '
                  f'{self.world_size} process(es))', logger='current')
        return progress_bar(len(self.shard), 'pseudo labels')


def validate_settings(beta: Optional[float], percentile: float, cap: float,
                      threshold: Optional[float], num_bins: int,
                      selection: str = 'fda', portion: float = 0.2) -> None:
    """Refuse out-of-range pseudo-label settings, naming the argument.

    Args:
        beta, percentile, cap, threshold, num_bins, selection, portion: As
            :func:`generate_pseudo_labels` takes them.

    Raises:
        ValueError: A setting is out of range, or ``threshold`` is given
            with ``selection='cbst'``.
    """
    if beta is not None and not 0.0 <= beta <= 0.5:
        raise ValueError(f'beta must be in [0, 0.5] or None (no FDA), '
                         f'got {beta}.')
    if not 0.0 <= percentile <= 1.0:
        raise ValueError('percentile must be a fraction in [0, 1] (e.g. '
                         f'0.66), got {percentile}.')
    if not 0.0 < cap <= 1.0:
        raise ValueError(f'cap must be in (0, 1], got {cap}.')
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ValueError(f'threshold must be in [0, 1] or None (per-class '
                         f'thresholds), got {threshold}.')
    if not isinstance(num_bins, int) or num_bins < 2:
        raise ValueError(f'num_bins must be an int >= 2, got {num_bins!r}.')
    if selection not in SELECTIONS:
        raise ValueError(f'selection must be one of {SELECTIONS} (FDA\'s '
                         'percentile thresholds, or CBST\'s class-balanced '
                         f'selection), got {selection!r}.')
    if not (isinstance(portion, (int, float)) and 0.0 < portion <= 1.0):
        raise ValueError('portion must be a fraction in (0, 1] (e.g. 0.2: '
                         'each class keeps its 20% most confident pixels), '
                         f'got {portion!r}.')
    if selection == 'cbst' and threshold is not None:
        raise ValueError(
            f'threshold={threshold} is a global threshold of FDA\'s rule; '
            "selection='cbst' sets one normalizer per class from `portion`. "
            "Pass threshold=None with selection='cbst', or selection='fda'.")


def validate_arguments(beta: Optional[float], percentile: float, cap: float,
                       threshold: Optional[float], num_bins: int,
                       checkpoints: Sequence[str],
                       reference: Optional[str], selection: str = 'fda',
                       portion: float = 0.2) -> None:
    """Refuse out-of-range settings and missing files, naming the argument.

    Args:
        beta, percentile, cap, threshold, num_bins, checkpoints, reference,
            selection, portion: As :func:`generate_pseudo_labels` takes
            them.

    Raises:
        ValueError: A setting is out of range, or no checkpoint is given.
        FileNotFoundError: A checkpoint or the reference image is missing.
    """
    validate_settings(beta, percentile, cap, threshold, num_bins, selection,
                      portion)
    if len(checkpoints) == 0:
        raise ValueError('checkpoints must name at least one checkpoint file.')
    for ckpt in checkpoints:
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'checkpoint {ckpt!r} does not exist.')
    if reference is not None and not osp.isfile(reference):
        raise FileNotFoundError(f'reference image {reference!r} not found.')


def _collect_images(target_dataset: DatasetLike,
                    source_dataset: Optional[DatasetLike],
                    beta: Optional[float],
                    reference: Optional[str]) -> _Images:
    """The target file list, and the source one if references are drawn."""
    target = file_list(target_dataset, 'target_dataset')
    root = image_root(target)
    paths = image_paths(target)
    if not paths:
        raise ValueError(f'target dataset has no images below {root!r}.')
    source_paths: List[str] = []
    if beta is not None and reference is None:
        if source_dataset is None:
            raise ValueError(
                'source_dataset is required to draw FDA reference images '
                '(beta is set and reference is None); pass source_dataset, '
                'a fixed reference image, or beta=None.')
        source_paths = image_paths(file_list(source_dataset,
                                             'source_dataset'))
        if not source_paths:
            raise ValueError('source_dataset has no images.')
    return _Images(
        root=root,
        paths=paths,
        rel_paths=[osp.relpath(p, root) for p in paths],
        classes=list(target.metainfo.get('classes', ())),
        source_paths=source_paths)


def _build_checked_models(model: dict, checkpoints: Sequence[str],
                          device: Union[str, torch.device],
                          classes: Sequence[str]) -> Tuple[List[nn.Module],
                                                           int]:
    """The models, and the number of classes they and the dataset share.

    Raises:
        ValueError: The model predicts another number of classes than the
            dataset has (a dataset without a class list takes the model's).
    """
    models = build_models(model, checkpoints, device)
    model_classes = int(models[0].decode_head.num_classes)
    if not classes:
        return models, model_classes
    if model_classes != len(classes):
        raise ValueError(
            f'the model predicts {model_classes} classes but the target '
            f'dataset has {len(classes)} ({list(classes)}); pseudo labels '
            'must use the dataset\'s class list. Use the model config '
            'of the target label space (decode_head.num_classes).')
    return models, model_classes


def _prepare_folder(out_dir: str, manifest: dict, is_new: bool,
                    rank: int) -> None:
    """Rank 0 creates the folder, removes stale temporary files and writes
    the manifest of a new set; every rank waits for it."""
    barrier()  # everybody has read the old manifest before rank 0 writes
    if rank == 0:
        os.makedirs(out_dir, exist_ok=True)
        remove_stale_temporary_files(out_dir)
        if is_new:
            write_manifest(out_dir, manifest)
    barrier()


def _tracked(items: Iterable[int], bar: Optional[_Bar]) -> Iterator[int]:
    """``items``, advancing ``bar`` (if any) after each, closing it at the
    end."""
    for item in items:
        yield item
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()


def _sum_over_ranks(array: np.ndarray) -> np.ndarray:
    tensor = torch.from_numpy(array)
    all_reduce(tensor, op='sum')
    return tensor.numpy()


def _histogram_pass(run: _Run, num_bins: int) -> np.ndarray:
    """Pass 1: per-class confidence histograms, summed over ranks."""
    hist = np.zeros((run.num_classes, num_bins), np.int64)
    bar = run.progress('pass 1/2, confidence histograms')
    for i in _tracked(run.shard, bar):
        pred, conf = run.predictor(run.images.paths[i], i)
        hist += confidence_histogram(pred, conf, run.num_classes, num_bins)
    return _sum_over_ranks(hist)


def _final_thresholds(run: _Run, manifest: dict, threshold: Optional[float],
                      percentile: float, cap: float, num_bins: int,
                      portion: float) -> np.ndarray:
    """The per-class values (FDA thresholds, or CBST normalizers): stored
    ones when final, else made and stored."""
    if not manifest['thresholds_final']:
        if threshold is not None:
            thresholds = np.full(run.num_classes, float(threshold))
            predicted = None
        else:
            hist = _histogram_pass(run, num_bins)
            if run.selection == 'cbst':
                thresholds = class_balanced_normalizers(hist, portion)
            else:
                thresholds = thresholds_from_histograms(
                    hist, percentile, cap)
            predicted = hist.sum(axis=1).tolist()
        manifest.update(
            thresholds=[float(t) for t in thresholds],
            thresholds_final=True,
            predicted_pixels=predicted)
        if run.rank == 0:
            write_manifest(run.out_dir, manifest)
        barrier()
    return np.asarray(manifest['thresholds'], dtype=np.float64)


def _label_image(run: _Run, index: int, thresholds: np.ndarray,
                 image_callback: Optional[ImageCallback],
                 tally: Optional[PredictionTally] = None) -> np.ndarray:
    """The pseudo label of one image, written unless its PNG exists.

    An existing PNG was written under the same, final thresholds: it is
    read (to be counted), not redone.
    """
    img_path = run.images.paths[index]
    png = pseudo_label_path(img_path, run.images.root, run.out_dir)
    if osp.isfile(png):
        return cv2.imread(png, cv2.IMREAD_UNCHANGED)
    if run.selection == 'cbst':
        label = apply_class_balanced(
            run.predictor.probabilities(img_path, index), thresholds)
    else:
        pred, conf = run.predictor(img_path, index)
        if tally is not None:
            tally.add(pred)
        label = apply_thresholds(pred, conf, thresholds)
    write_png(png, label)
    if image_callback is not None:
        image_callback(index, png)
    return label


def _label_pass(run: _Run, thresholds: np.ndarray, task: str,
                image_callback: Optional[ImageCallback],
                tally: Optional[PredictionTally] = None) -> np.ndarray:
    """Pass 2: labels; returns per-class then ignored pixel counts, summed
    over ranks (and counts the predictions in ``tally``, if given)."""
    num_classes = run.num_classes
    counts = np.zeros(num_classes + 1, np.int64)  # last: ignored pixels
    for i in _tracked(run.shard, run.progress(task)):
        label = _label_image(run, i, thresholds, image_callback, tally)
        hist = np.bincount(label.reshape(-1), minlength=256)
        counts[:num_classes] += hist[:num_classes]
        counts[num_classes] += hist[IGNORE_INDEX]
    if tally is not None:
        tally.reduce(_sum_over_ranks)
    return _sum_over_ranks(counts)


def _finish(run: _Run, manifest: dict, counts: np.ndarray) -> dict:
    """Store the pixel counts and ``complete: true`` (rank 0 writes)."""
    manifest.update(
        labelled_pixels=counts[:run.num_classes].tolist(),
        ignored_pixels=int(counts[run.num_classes]),
        complete=True)
    barrier()
    if run.rank == 0:
        write_manifest(run.out_dir, manifest)
    barrier()
    return manifest


# The docstring (every argument of the public API) is most of its length;
# the body is the sequence of steps above.
def generate_pseudo_labels(
        model: Union[dict, ConfigDict],
        checkpoints: Sequence[str],
        target_dataset: DatasetLike,
        out_dir: str,
        *,
        source_dataset: Optional[DatasetLike] = None,
        pipeline: Optional[Sequence[dict]] = None,
        beta: Optional[float] = 0.01,
        reference: Optional[str] = None,
        seed: int = 0,
        grayscale: bool = False,
        percentile: float = 0.66,
        cap: float = 0.9,
        threshold: Optional[float] = None,
        num_bins: int = 1000,
        selection: str = 'fda',
        portion: float = 0.2,
        device: Union[str, torch.device, None] = None,
        show_progress: bool = False,
        image_callback: Optional[ImageCallback] = None) -> dict:
    """Generate (or reuse, or finish) a pseudo-label set; see the module doc.

    Args:
        model (dict): Model config; its ``data_preprocessor`` and ``test_cfg``
            are used for prediction.
        checkpoints (Sequence[str]): One checkpoint, or several whose softmax
            is averaged (MBT).
        target_dataset (dict | BaseDataset): The target training set (only
            its file list is used).
        out_dir (str): Output folder (PNGs mirroring the image tree below the
            dataset's ``data_prefix['img_path']``, plus ``manifest.json``).
        source_dataset (dict | BaseDataset, optional): Source set that FDA
            reference images are drawn from when ``reference`` is None.
        pipeline (Sequence[dict], optional): Inference pipeline; default
            ``[LoadImageFromFile, PackSegInputs]`` (predict at original size).
        beta (float, optional): FDA window for target->source stylization,
            in [0, 0.5]; None predicts on the raw target. Default: 0.01.
        reference (str, optional): A fixed source reference image. Default:
            None (a deterministic per-image random source image).
        seed (int): Seed of the reference draw. Default: 0.
        grayscale (bool): Predict on grayscale images. Default: False.
        percentile (float): Per-class threshold percentile (fraction) of
            FDA's rule. Default: 0.66.
        cap (float): Cap of FDA's per-class thresholds. Default: 0.9.
        threshold (float, optional): A global threshold instead of per-class
            ones (skips the histogram pass; FDA's rule only). Default: None.
        num_bins (int): Histogram resolution. Default: 1000.
        selection (str): ``'fda'`` (FDA's capped per-class percentile
            thresholds on the argmax) or ``'cbst'`` (CBST's class-balanced
            selection, ``argmax_c p_c / k_c`` kept where it is >= 1, with
            ``k_c`` the confidence at the top-``portion`` quantile of class
            ``c``; ``percentile`` and ``cap`` do not apply). Default:
            ``'fda'``.
        portion (float): With ``selection='cbst'``, the share of each
            class's predicted pixels its ``k_c`` keeps, in (0, 1]. Default:
            0.2 (CBST's first round).
        device (str, optional): Default: ``cuda`` if available, else ``cpu``.
        show_progress (bool): mmengine progress bar on rank 0.
        image_callback (callable, optional): ``f(index, png_path)`` called
            after each PNG is written (progress reporting, tests).

    Returns:
        dict: The final manifest.

    Raises:
        PseudoLabelSettingsError: ``out_dir`` holds a set made with other
            settings, or PNGs without a manifest.
    """
    checkpoints = [str(c) for c in checkpoints]
    validate_arguments(beta, percentile, cap, threshold, num_bins,
                       checkpoints, reference, selection, portion)
    rank, world_size = get_dist_info()
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
    images = _collect_images(target_dataset, source_dataset, beta, reference)
    pipeline = inference_pipeline_from_cfg(pipeline)
    model_cfg = dict(model)
    settings = make_settings(
        checkpoints=checkpoints, model=model_cfg, pipeline=pipeline,
        rel_paths=images.rel_paths, source_paths=images.source_paths,
        beta=beta, reference=reference, seed=seed, grayscale=grayscale,
        percentile=percentile, cap=cap, threshold=threshold,
        num_bins=num_bins, selection=selection, portion=portion)
    settings_hash = sha256_json(settings)
    existing = reusable_manifest(out_dir, settings, settings_hash)
    if existing is not None and existing.get('complete'):
        print_log(f'pseudo labels in {out_dir} are complete for these '
                  'checkpoints and settings; reusing them.', logger='current')
        return existing

    # Build (and check) the models before anything is written, so that a
    # checkpoint of another label space leaves no half-made folder behind.
    models, num_classes = _build_checked_models(model_cfg, checkpoints,
                                                device, images.classes)
    manifest = existing or new_manifest(
        settings, settings_hash, checkpoints, images.root, len(images.paths),
        images.classes)
    _prepare_folder(out_dir, manifest, existing is None, rank)
    predictor = Predictor(models, pipeline, beta, grayscale, reference,
                          images.source_paths, seed)
    run = _Run(out_dir, images, predictor, num_classes, show_progress, rank,
               world_size, selection)
    thresholds = _final_thresholds(run, manifest, threshold, percentile, cap,
                                   num_bins, portion)
    # Without a histogram pass (a global threshold) the report's predicted
    # counts come from the label pass.
    tally = (PredictionTally(num_classes)
             if manifest.get('predicted_pixels') is None else None)
    counts = _label_pass(run, thresholds,
                         'pass 2/2, labels' if threshold is None else 'labels',
                         image_callback, tally)
    manifest = _finish(run, manifest, counts)
    publish_report(out_dir, manifest, tally, rank)
    return manifest
