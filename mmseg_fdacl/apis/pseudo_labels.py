"""Pseudo labels for self-training from one or an ensemble of segmentors.

The threshold rule follows FDA's self-supervised training step (Yang & Soatto,
"FDA: Fourier Domain Adaptation for Semantic Segmentation", CVPR 2020, and its
reference ``getSudoLabel`` script): for each class, the confidence at a
percentile of the pixels predicted as that class, capped; pixels below their
class threshold are ignored (255). Several checkpoints are ensembled by
averaging their softmax (FDA's multi-band transfer, MBT).

How a set is made (:func:`generate_pseudo_labels`):

1. **Prediction.** Each target image goes through an inference pipeline
   (default: load + pack, i.e. the original size; the tool and hook use the
   config's ``test_pipeline`` without ``LoadAnnotations``), then, on its 0-255
   pixels, FDA target->source with a source reference image (``beta``; the
   reference is a fixed image, or per target image a source image drawn with
   ``numpy.random.default_rng([seed, image_index])``, so the draw does not
   depend on sharding), then optional grayscale (ITU-R 601 luma, replicated to
   three channels). Each model's own ``data_preprocessor`` normalises it and
   ``test_step`` predicts (whole or sliding-window, as the model's
   ``test_cfg`` says); the logits are resized to the ORIGINAL image size, so
   pseudo labels have the size of the image file and the target training
   pipeline resizes/crops them like any segmentation map.
2. **Pass 1, histograms.** Per class, a histogram (``num_bins`` bins over
   [0, 1]) of the confidences (max of the averaged softmax) of the pixels
   predicted as that class. Memory is ``num_classes x num_bins`` integers,
   whatever the number of images. Under ``torch.distributed`` every rank
   handles images ``rank::world_size`` and the histograms are summed with
   ``mmengine.dist.all_reduce``. The percentile (``numpy.percentile``'s
   linear definition) is read from the cumulative histogram, within
   ``1 / num_bins`` of the exact value. Rank 0 stores the thresholds in
   ``manifest.json``. With a global ``threshold`` this pass is skipped.
3. **Pass 2, labels.** The prediction is recomputed (nothing per image is
   kept between passes: no memory or disk that grows with the set) and
   ``label = argmax if confidence >= threshold[argmax] else 255`` is written
   as a uint8 PNG at :func:`mmseg_fdacl.utils.pseudo_label_path`.

Safety: every file (PNGs, manifest) is written to a temporary name in the
same folder and renamed with ``os.replace``, so no reader ever sees a
truncated file. ``manifest.json`` is written before anything else, again when
thresholds are final and at the end with ``complete: true``. A run on a
folder whose manifest is complete for the same settings writes nothing; an
interrupted run resumes: stored thresholds are reused and only images without
a PNG are labelled. A folder made with other settings (or checkpoints with
other contents) is never reused: :class:`PseudoLabelSettingsError` names the
differing settings.
"""
import copy
import hashlib
import json
import os
import os.path as osp
import uuid
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config, ConfigDict
from mmengine.dataset import BaseDataset
from mmengine.dist import all_reduce, barrier, get_dist_info
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from torch import nn

from mmseg_fdacl.utils import pseudo_label_path
from mmseg_fdacl.utils.progress import progress_bar

MANIFEST_NAME = 'manifest.json'
MANIFEST_VERSION = 1
IGNORE_INDEX = 255
_TMP_TAG = '.tmp-'

ImageCallback = Callable[[int, str], None]


class PseudoLabelSettingsError(ValueError):
    """An output folder holds pseudo labels made with other settings."""


# --------------------------------------------------------------------------
# The threshold math, as plain functions (tested against brute force).
# --------------------------------------------------------------------------
def confidence_histogram(pred: np.ndarray, conf: np.ndarray, num_classes: int,
                         num_bins: int = 1000) -> np.ndarray:
    """Per-class histogram of confidences of the pixels predicted as a class.

    Args:
        pred (np.ndarray): Predicted class of each pixel, ``H x W`` ints.
        conf (np.ndarray): Confidence of each pixel in [0, 1], ``H x W``.
        num_classes (int): Number of classes.
        num_bins (int): Bins over [0, 1]; bin ``k`` holds ``[k/B, (k+1)/B)``,
            the last one also 1.0. Default: 1000.

    Returns:
        np.ndarray: ``num_classes x num_bins`` int64 counts.
    """
    pred = np.asarray(pred).reshape(-1).astype(np.int64)
    bins = np.clip((np.asarray(conf).reshape(-1) * num_bins).astype(np.int64),
                   0, num_bins - 1)
    flat = np.bincount(
        pred * num_bins + bins, minlength=num_classes * num_bins)
    return flat[:num_classes * num_bins].reshape(num_classes, num_bins)


def thresholds_from_histograms(hist: np.ndarray,
                               percentile: float = 0.66,
                               cap: float = 0.9) -> np.ndarray:
    """FDA's per-class thresholds from confidence histograms.

    For each class, the confidence below which a fraction ``percentile`` of
    its pixels lie (``numpy.percentile``'s linear definition, computed from
    the histogram: within one bin width of the exact value), capped at
    ``cap``. A class no pixel was
    predicted as gets ``cap`` (it labels nothing either way).

    Args:
        hist (np.ndarray): ``num_classes x num_bins`` counts from
            :func:`confidence_histogram` (summed over images/ranks).
        percentile (float): Fraction in [0, 1]. Default: 0.66.
        cap (float): Upper bound of every threshold. Default: 0.9.

    Returns:
        np.ndarray: ``num_classes`` float64 thresholds.
    """
    hist = np.asarray(hist, dtype=np.float64)
    num_classes, num_bins = hist.shape
    thresholds = np.full(num_classes, float(cap))
    for c in range(num_classes):
        total = hist[c].sum()
        if total == 0:
            continue
        # numpy.percentile's (linear) definition: interpolate between the
        # sorted confidences at 0-based positions floor(q) and ceil(q),
        # q = p * (n - 1). Each of the two is estimated inside its bin (its
        # bin: the first whose cumulative count exceeds the position; inside
        # a bin the elements are taken as evenly spread), so each estimate,
        # and their interpolation, is within one bin width of the exact one.
        q = percentile * (total - 1)
        cum = np.cumsum(hist[c])

        def element(j: float) -> float:
            k = min(int(np.searchsorted(cum, j, side='right')), num_bins - 1)
            frac = (j - (cum[k] - hist[c, k]) + 0.5) / hist[c, k]
            return (k + float(np.clip(frac, 0.0, 1.0))) / num_bins

        lo, hi = np.floor(q), np.ceil(q)
        value = element(lo) + (q - lo) * (element(hi) - element(lo))
        thresholds[c] = min(value, cap)
    return thresholds


def apply_thresholds(pred: np.ndarray, conf: np.ndarray,
                     thresholds: Union[np.ndarray, float]) -> np.ndarray:
    """Pseudo label: the predicted class where ``conf >= threshold``, else 255.

    Args:
        pred (np.ndarray): ``H x W`` predicted classes (< 255).
        conf (np.ndarray): ``H x W`` confidences.
        thresholds (np.ndarray | float): Per-class thresholds, or one global.

    Returns:
        np.ndarray: ``H x W`` uint8 train ids, 255 = ignore.
    """
    pred = np.asarray(pred)
    if np.isscalar(thresholds) or np.ndim(thresholds) == 0:
        thr = float(thresholds)
    else:
        thr = np.asarray(thresholds, dtype=np.float64)[pred]
    label = pred.astype(np.uint8)
    label[np.asarray(conf) < thr] = IGNORE_INDEX
    return label


def to_grayscale(img: torch.Tensor) -> torch.Tensor:
    """BGR ``N x 3 x H x W`` pixels to 3-channel grayscale (ITU-R 601 luma).

    The weights are symmetric in meaning only for BGR input (cv2's order,
    what ``LoadImageFromFile`` produces).
    """
    weights = img.new_tensor([0.114, 0.587, 0.299]).view(1, 3, 1, 1)
    gray = (img * weights).sum(dim=1, keepdim=True)
    return gray.expand(-1, 3, -1, -1).contiguous()


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------
def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def _json_ready(obj):
    """Config values -> plain JSON types (tuples become lists)."""
    if isinstance(obj, (Config, ConfigDict)):
        obj = obj.to_dict() if isinstance(obj, Config) else dict(obj)
    if isinstance(obj, dict):
        return {str(k): _json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_ready(v) for v in obj]
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return repr(obj)


def _sha256_json(obj) -> str:
    return hashlib.sha256(
        json.dumps(_json_ready(obj), sort_keys=True).encode()).hexdigest()


def write_atomic(path: str, write: Callable[[str], None]) -> None:
    """Write ``path`` through ``write(tmp_path)`` and an atomic rename.

    The temporary file lives in the same folder (``os.replace`` is atomic only
    within one file system) and keeps the extension, which cv2 needs.
    """
    folder, name = osp.split(path)
    os.makedirs(folder or '.', exist_ok=True)
    stem, ext = osp.splitext(name)
    tmp = osp.join(folder, f'.{stem}{_TMP_TAG}{uuid.uuid4().hex}{ext}')
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if osp.exists(tmp):
            os.remove(tmp)


def _write_png(path: str, label: np.ndarray) -> None:

    def write(tmp: str) -> None:
        if not cv2.imwrite(tmp, label):
            raise OSError(f'cv2 could not write pseudo label {tmp!r}')

    write_atomic(path, write)


def write_manifest(out_dir: str, manifest: dict) -> None:
    """Atomically write ``out_dir/manifest.json``."""

    def write(tmp: str) -> None:
        with open(tmp, 'w') as f:
            json.dump(manifest, f, indent=2, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())

    write_atomic(osp.join(out_dir, MANIFEST_NAME), write)


def read_manifest(out_dir: str) -> Optional[dict]:
    """``out_dir/manifest.json`` as a dict, or None when there is none."""
    path = osp.join(out_dir, MANIFEST_NAME)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as err:
            raise PseudoLabelSettingsError(
                f'{path} is not valid JSON ({err}); it was not written by '
                'mmseg_fdacl (its writes are atomic). Remove the folder or '
                'choose another output folder.') from err


def _remove_stale_tmp_files(out_dir: str) -> None:
    for root, _, files in os.walk(out_dir):
        for name in files:
            if name.startswith('.') and _TMP_TAG in name:
                os.remove(osp.join(root, name))


def _has_png(out_dir: str) -> bool:
    for _, _, files in os.walk(out_dir):
        if any(f.endswith('.png') for f in files):
            return True
    return False


def _build_dataset(dataset: Union[dict, BaseDataset],
                   name: str) -> BaseDataset:
    if isinstance(dataset, BaseDataset):
        return dataset
    if not isinstance(dataset, dict):
        raise TypeError(f'{name} must be a dataset config dict or a '
                        f'BaseDataset, got {type(dataset).__name__}.')
    from mmseg.registry import DATASETS
    cfg = dict(dataset)
    # Only the file list is needed; a training pipeline (random crops...)
    # would be wasted work if built, and is never called.
    cfg['pipeline'] = []
    return DATASETS.build(cfg)


def _image_root(dataset: BaseDataset) -> str:
    prefix = getattr(dataset, 'data_prefix', None) or {}
    root = prefix.get('img_path') or getattr(dataset, 'data_root', None)
    if not root:
        raise ValueError(
            f'target dataset {type(dataset).__name__} has no '
            "data_prefix['img_path'] or data_root: the pseudo-label folder "
            'mirrors the image tree below it, so one is needed.')
    return root


def inference_pipeline_from_cfg(
        pipeline: Optional[Sequence[dict]]) -> List[dict]:
    """An inference pipeline for unlabelled images from a test pipeline.

    Drops ``LoadAnnotations`` (target training images need no labels) and
    returns the default ``[LoadImageFromFile, PackSegInputs]`` for None.

    Args:
        pipeline (Sequence[dict], optional): E.g. a config's
            ``test_pipeline``.

    Returns:
        list[dict]: Transform configs.
    """
    if not pipeline:
        return [dict(type='LoadImageFromFile'), dict(type='PackSegInputs')]
    out = [dict(t) for t in pipeline if t.get('type') != 'LoadAnnotations']
    return out


def build_models(model: Union[dict, ConfigDict],
                 checkpoints: Sequence[str],
                 device: Union[str, torch.device] = 'cpu') -> List[nn.Module]:
    """Build one model per checkpoint in eval mode on ``device``.

    A checkpoint of the UDA segmentor loads into a plain ``EncoderDecoder``
    and back: state-dict keys are the same; heads the checkpoint lacks (e.g.
    a projection head) keep their initialisation (mmengine warns), and are
    not used for prediction.

    Args:
        model (dict): Model config (``cfg.model``).
        checkpoints (Sequence[str]): Checkpoint files.
        device (str | torch.device): Where to run.

    Returns:
        list[nn.Module]: The models.
    """
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    models = []
    for ckpt in checkpoints:
        # ConfigDict: mmseg reads test_cfg by attribute (test_cfg.mode).
        cfg = ConfigDict(copy.deepcopy(dict(model)))
        cfg.pop('pretrained', None)
        cfg['train_cfg'] = None
        net = MODELS.build(cfg)
        loaded = load_checkpoint(
            net, ckpt, map_location='cpu', strict=False, logger='current')
        _check_checkpoint_shapes(net, loaded, ckpt)
        net.to(device).eval()
        models.append(net)
    return models


def _check_checkpoint_shapes(net: nn.Module, loaded: dict,
                             ckpt: str) -> None:
    """Refuse a checkpoint whose tensors do not fit the model.

    mmengine's non-strict loading only warns about a shape mismatch and keeps
    the random initialisation, so a checkpoint of a model with another number
    of classes would silently label with an untrained classifier.
    """
    state = loaded.get('state_dict', loaded)
    own = net.state_dict()
    wrong = [(k, tuple(v.shape), tuple(own[k].shape))
             for k, v in state.items()
             if k in own and hasattr(v, 'shape') and v.shape != own[k].shape]
    if wrong:
        key, theirs, ours = wrong[0]
        raise ValueError(
            f'checkpoint {ckpt!r} does not fit the model config: {key} has '
            f'shape {theirs} in the checkpoint but {ours} in the model '
            f'({len(wrong)} mismatching tensors). It was probably trained '
            'with another number of classes or another architecture; pass '
            'the config it was trained with.')


class _Predictor:
    """Averaged softmax of several models on source-stylised target images."""

    def __init__(self, models: Sequence[nn.Module], pipeline: Sequence[dict],
                 beta: Optional[float], grayscale: bool,
                 reference: Optional[str], source_paths: Sequence[str],
                 seed: int) -> None:
        init_default_scope('mmseg')
        self.models = list(models)
        self.pipeline = Compose(list(pipeline))
        self.beta = beta
        self.grayscale = grayscale
        self.reference = reference
        self.source_paths = list(source_paths)
        self.seed = seed
        self._ref_cache: Dict[str, torch.Tensor] = {}

    def _reference_image(self, index: int) -> torch.Tensor:
        if self.reference is not None:
            path = self.reference
        else:
            rng = np.random.default_rng([self.seed, index])
            path = self.source_paths[int(rng.integers(len(self.source_paths)))]
        if path not in self._ref_cache:
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            if img is None:
                raise FileNotFoundError(
                    f'could not read FDA reference image {path!r}')
            ref = torch.from_numpy(img).permute(2, 0, 1)[None].float()
            if self.reference is None:
                return ref  # random draws: do not grow a cache
            self._ref_cache[path] = ref
        return self._ref_cache[path]

    @torch.no_grad()
    def __call__(self, img_path: str,
                 index: int) -> Tuple[np.ndarray, np.ndarray]:
        """Return ``(pred, conf)`` at the original image size."""
        from mmseg_fdacl.fda import fda_amplitude_swap
        data = self.pipeline(dict(img_path=img_path, reduce_zero_label=False,
                                  seg_fields=[]))
        # FDA and grayscale run where the models are (the GPU, if any).
        device = next(self.models[0].parameters()).device
        img = data['inputs'][None].to(device).float()
        if self.beta is not None:
            ref = self._reference_image(index).to(device)
            img = fda_amplitude_swap(img, ref, self.beta, clip=True)
        if self.grayscale:
            img = to_grayscale(img)
        prob = None
        for model in self.models:
            batch = dict(inputs=[img[0]], data_samples=[data['data_samples']])
            sample = model.test_step(batch)[0]
            p = sample.seg_logits.data.float().softmax(dim=0)
            prob = p if prob is None else prob + p
        prob /= len(self.models)
        conf, pred = prob.max(dim=0)
        return pred.cpu().numpy().astype(np.uint8), conf.cpu().numpy()


def _validate(beta, percentile, cap, threshold, num_bins, checkpoints):
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
    if len(checkpoints) == 0:
        raise ValueError('checkpoints must name at least one checkpoint file.')
    for ckpt in checkpoints:
        if not osp.isfile(ckpt):
            raise FileNotFoundError(f'checkpoint {ckpt!r} does not exist.')


def _settings_diff(old: dict, new: dict) -> List[str]:
    keys = sorted(set(old) | set(new))
    return [
        f'{k}: {old.get(k)!r} (folder) != {new.get(k)!r} (now)' for k in keys
        if old.get(k) != new.get(k)
    ]


def generate_pseudo_labels(
        model: Union[dict, ConfigDict],
        checkpoints: Sequence[str],
        target_dataset: Union[dict, BaseDataset],
        out_dir: str,
        *,
        source_dataset: Union[dict, BaseDataset, None] = None,
        pipeline: Optional[Sequence[dict]] = None,
        beta: Optional[float] = 0.01,
        reference: Optional[str] = None,
        seed: int = 0,
        grayscale: bool = False,
        percentile: float = 0.66,
        cap: float = 0.9,
        threshold: Optional[float] = None,
        num_bins: int = 1000,
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
        beta (float, optional): FDA window for target->source stylisation,
            in [0, 0.5]; None predicts on the raw target. Default: 0.01.
        reference (str, optional): A fixed source reference image. Default:
            None (a deterministic per-image random source image).
        seed (int): Seed of the reference draw. Default: 0.
        grayscale (bool): Predict on grayscale images. Default: False.
        percentile (float): Per-class threshold percentile (fraction).
            Default: 0.66.
        cap (float): Cap of the per-class thresholds. Default: 0.9.
        threshold (float, optional): A global threshold instead of per-class
            ones (skips the histogram pass). Default: None.
        num_bins (int): Histogram resolution. Default: 1000.
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
    _validate(beta, percentile, cap, threshold, num_bins, checkpoints)
    if reference is not None and not osp.isfile(reference):
        raise FileNotFoundError(f'reference image {reference!r} not found.')
    rank, world_size = get_dist_info()
    if device is None:
        device = 'cuda' if torch.cuda.is_available() else 'cpu'

    target = _build_dataset(target_dataset, 'target_dataset')
    img_root = _image_root(target)
    img_paths = [
        target.get_data_info(i)['img_path'] for i in range(len(target))
    ]
    if not img_paths:
        raise ValueError(f'target dataset has no images below {img_root!r}.')
    rel_paths = [osp.relpath(p, img_root) for p in img_paths]
    num_classes = len(target.metainfo.get('classes', ())) or None

    source_paths: List[str] = []
    if beta is not None and reference is None:
        if source_dataset is None:
            raise ValueError(
                'source_dataset is required to draw FDA reference images '
                '(beta is set and reference is None); pass source_dataset, '
                'a fixed reference image, or beta=None.')
        source = _build_dataset(source_dataset, 'source_dataset')
        source_paths = [
            source.get_data_info(i)['img_path'] for i in range(len(source))
        ]
        if not source_paths:
            raise ValueError('source_dataset has no images.')
    pipeline = inference_pipeline_from_cfg(pipeline)
    model_cfg = dict(model)

    settings = dict(
        checkpoint_sha256=[sha256_file(c) for c in checkpoints],
        model_test=_json_ready(
            dict(
                data_preprocessor=model_cfg.get('data_preprocessor'),
                test_cfg=model_cfg.get('test_cfg'))),
        pipeline=_json_ready(pipeline),
        target_images=dict(
            count=len(rel_paths), list_sha256=_sha256_json(rel_paths)),
        beta=beta,
        reference=(None if reference is None else sha256_file(reference)),
        source_images=(_sha256_json(
            [osp.basename(p) for p in source_paths])
                       if source_paths else None),
        seed=seed if (beta is not None and reference is None) else None,
        grayscale=bool(grayscale),
        percentile=None if threshold is not None else percentile,
        cap=None if threshold is not None else cap,
        threshold=threshold,
        num_bins=None if threshold is not None else num_bins,
    )
    settings_hash = _sha256_json(settings)

    existing = read_manifest(out_dir)
    if existing is None and osp.isdir(out_dir) and _has_png(out_dir):
        raise PseudoLabelSettingsError(
            f'{out_dir!r} holds PNG files but no {MANIFEST_NAME}: it is not a '
            'pseudo-label folder made by mmseg_fdacl. Choose an empty or new '
            'output folder.')
    if existing is not None and existing.get('settings_hash') != \
            settings_hash:
        diff = _settings_diff(existing.get('settings', {}), settings)
        raise PseudoLabelSettingsError(
            f'{out_dir!r} holds pseudo labels made with other settings or '
            'checkpoints, which are never reused silently. Differences: ' +
            '; '.join(diff or ['manifest version']) +
            '. Use another output folder, or delete this one to regenerate.')
    if existing is not None and existing.get('complete'):
        print_log(f'pseudo labels in {out_dir} are complete for these '
                  'checkpoints and settings; reusing them.', logger='current')
        return existing

    # Build (and check) the models before anything is written, so that a
    # checkpoint of another label space leaves no half-made folder behind.
    models = build_models(model_cfg, checkpoints, device)
    model_classes = int(models[0].decode_head.num_classes)
    if num_classes is None:
        num_classes = model_classes
    elif model_classes != num_classes:
        raise ValueError(
            f'the model predicts {model_classes} classes but the target '
            f'dataset has {num_classes} '
            f'({list(target.metainfo.get("classes", ()))}); pseudo labels '
            'must use the dataset\'s class list. Use the model config '
            'of the target label space (decode_head.num_classes).')

    manifest = existing or dict(
        version=MANIFEST_VERSION,
        settings=settings,
        settings_hash=settings_hash,
        checkpoints=[
            dict(path=osp.abspath(c), sha256=h)
            for c, h in zip(checkpoints, settings['checkpoint_sha256'])
        ],
        image_root=osp.abspath(img_root),
        num_images=len(rel_paths),
        classes=list(target.metainfo.get('classes', ())),
        thresholds=None,
        thresholds_final=False,
        predicted_pixels=None,
        labelled_pixels=None,
        ignored_pixels=None,
        complete=False)
    barrier()  # everybody has read the old manifest before rank 0 writes
    if rank == 0:
        os.makedirs(out_dir, exist_ok=True)
        _remove_stale_tmp_files(out_dir)
        if existing is None:
            write_manifest(out_dir, manifest)
    barrier()

    predictor = _Predictor(models, pipeline, beta, grayscale, reference,
                           source_paths, seed)
    shard = list(range(rank, len(img_paths), world_size))

    def progress(task: str):
        if show_progress and rank == 0:
            print_log(f'pseudo labels: {task} ({len(img_paths)} images, '
                      f'{world_size} process(es))', logger='current')
            return progress_bar(len(shard), 'pseudo labels')
        return None

    # Pass 1: per-class confidence histograms -> thresholds.
    if not manifest['thresholds_final']:
        if threshold is not None:
            thresholds = np.full(num_classes, float(threshold))
            predicted = None
        else:
            hist = np.zeros((num_classes, num_bins), np.int64)
            bar = progress('pass 1/2, confidence histograms')
            for i in shard:
                pred, conf = predictor(img_paths[i], i)
                hist += confidence_histogram(pred, conf, num_classes, num_bins)
                if bar is not None:
                    bar.update()
            if bar is not None:
                bar.close()
            hist_t = torch.from_numpy(hist)
            all_reduce(hist_t, op='sum')
            hist = hist_t.numpy()
            thresholds = thresholds_from_histograms(hist, percentile, cap)
            predicted = hist.sum(axis=1).tolist()
        manifest.update(
            thresholds=[float(t) for t in thresholds],
            thresholds_final=True,
            predicted_pixels=predicted)
        if rank == 0:
            write_manifest(out_dir, manifest)
        barrier()
    thresholds = np.asarray(manifest['thresholds'], dtype=np.float64)

    # Pass 2: labels (images whose PNG exists were written under the same,
    # final thresholds: count them, do not redo them).
    counts = np.zeros(num_classes + 1, np.int64)  # last: ignored pixels
    bar = progress('pass 2/2, labels' if threshold is None else 'labels')
    for i in shard:
        png = pseudo_label_path(img_paths[i], img_root, out_dir)
        if osp.isfile(png):
            label = cv2.imread(png, cv2.IMREAD_UNCHANGED)
        else:
            pred, conf = predictor(img_paths[i], i)
            label = apply_thresholds(pred, conf, thresholds)
            _write_png(png, label)
            if image_callback is not None:
                image_callback(i, png)
        hist = np.bincount(label.reshape(-1), minlength=256)
        counts[:num_classes] += hist[:num_classes]
        counts[num_classes] += hist[IGNORE_INDEX]
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    counts_t = torch.from_numpy(counts)
    all_reduce(counts_t, op='sum')
    counts = counts_t.numpy()
    manifest.update(
        labelled_pixels=counts[:num_classes].tolist(),
        ignored_pixels=int(counts[num_classes]),
        complete=True)
    barrier()
    if rank == 0:
        write_manifest(out_dir, manifest)
    barrier()
    return manifest


# --------------------------------------------------------------------------
# Quality and pictures of a finished set (used by the tool).
# --------------------------------------------------------------------------
def _target_items(target: BaseDataset):
    root = _image_root(target)
    for i in range(len(target)):
        info = target.get_data_info(i)
        yield i, info['img_path'], info.get('seg_map_path'), root


def evaluate_pseudo_labels(label_dir: str,
                           target_dataset: Union[dict, BaseDataset],
                           num_classes: Optional[int] = None
                           ) -> Optional[dict]:
    """IoU of pseudo labels against the target ground truth, where it exists.

    Only **labelled** pseudo-label pixels are scored: ground truth under a
    255 pseudo label is ignored, as in the reference "Pseudo Labels" row
    (quality of the labels stage 2 trains on). ``coverage`` says which share
    of the ground-truth pixels received a label. Uses MMSeg's
    ``IoUMetric.intersect_and_union`` / ``total_area_to_metrics``.

    Args:
        label_dir (str): Pseudo-label folder.
        target_dataset (dict | BaseDataset): The target set; its
            ``seg_map_path`` entries (e.g. ``gtFine/train`` labelTrainIds)
            are the ground truth.
        num_classes (int, optional): Default: the dataset's class count.

    Returns:
        dict | None: ``classes``, ``iou`` (per class, %, NaN where a class
        is in neither map), ``miou`` (%), ``coverage`` (%), ``num_images``;
        None when no ground truth exists.
    """
    from mmseg.evaluation import IoUMetric
    target = _build_dataset(target_dataset, 'target_dataset')
    classes = list(target.metainfo.get('classes', ()))
    num_classes = num_classes or len(classes)
    totals = [torch.zeros(num_classes, dtype=torch.float64) for _ in range(4)]
    gt_valid = labelled = 0
    num_images = 0
    for _, img_path, gt_path, root in _target_items(target):
        if not gt_path or not osp.isfile(gt_path):
            continue
        gt = cv2.imread(gt_path, cv2.IMREAD_UNCHANGED)
        png = pseudo_label_path(img_path, root, label_dir)
        label = cv2.imread(png, cv2.IMREAD_UNCHANGED)
        if label is None:
            raise FileNotFoundError(f'pseudo label {png!r} of {img_path!r} '
                                    'is missing; generate the set first.')
        if label.shape != gt.shape:
            raise ValueError(
                f'pseudo label {png!r} is {label.shape} but the ground truth '
                f'{gt_path!r} is {gt.shape}; pseudo labels are written at '
                'the image size, so the image and its ground truth differ.')
        valid = gt != IGNORE_INDEX
        gt_valid += int(valid.sum())
        labelled += int((valid & (label != IGNORE_INDEX)).sum())
        scored = gt.copy()
        scored[label == IGNORE_INDEX] = IGNORE_INDEX
        areas = IoUMetric.intersect_and_union(
            torch.from_numpy(label.astype(np.int64)),
            torch.from_numpy(scored.astype(np.int64)), num_classes,
            IGNORE_INDEX)
        for t, a in zip(totals, areas):
            t += a.double()
        num_images += 1
    if num_images == 0:
        return None
    # Despite its annotations, total_area_to_metrics needs torch tensors.
    metrics = IoUMetric.total_area_to_metrics(*totals, metrics=['mIoU'])
    iou = np.asarray(metrics['IoU'], dtype=np.float64) * 100
    return dict(
        classes=classes,
        iou=iou.tolist(),
        miou=float(np.nanmean(iou)),
        coverage=100.0 * labelled / max(gt_valid, 1),
        num_images=num_images)


def visualize_pseudo_labels(label_dir: str,
                            target_dataset: Union[dict, BaseDataset],
                            show_dir: str,
                            indices: Optional[Sequence[int]] = None) -> int:
    """Write ``image | ground truth | pseudo label`` pictures.

    Colours are the dataset palette (Cityscapes'), drawn with MMSeg's
    ``SegLocalVisualizer`` at full opacity; ignored (255) pixels are black.
    The ground-truth panel is left out where there is none. Files mirror the
    image tree under ``show_dir`` (``.png``).

    Args:
        label_dir (str): Pseudo-label folder.
        target_dataset (dict | BaseDataset): The target set.
        show_dir (str): Output folder.
        indices (Sequence[int], optional): Images to draw. Default: all.

    Returns:
        int: Number of pictures written.
    """
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    from mmseg.visualization import SegLocalVisualizer
    target = _build_dataset(target_dataset, 'target_dataset')
    vis = SegLocalVisualizer(
        name=f'pseudo_labels_{uuid.uuid4().hex}', alpha=1.0)
    vis.set_dataset_meta(
        classes=target.metainfo['classes'], palette=target.metainfo['palette'])
    wanted = None if indices is None else set(indices)
    count = 0
    for i, img_path, gt_path, root in _target_items(target):
        if wanted is not None and i not in wanted:
            continue
        image = cv2.imread(img_path, cv2.IMREAD_COLOR)[..., ::-1].copy()
        label = cv2.imread(
            pseudo_label_path(img_path, root, label_dir), cv2.IMREAD_UNCHANGED)
        panels = [image]
        maps = [label]
        if gt_path and osp.isfile(gt_path):
            maps.insert(0, cv2.imread(gt_path, cv2.IMREAD_UNCHANGED))
        for seg in maps:
            # One panel per call: add_datasample keeps only the last drawn
            # map as the visualizer's image when no out_file is given.
            sample = SegDataSample()
            sample.pred_sem_seg = PixelData(data=torch.from_numpy(seg)[None])
            vis.add_datasample(
                'pseudo_label', image, sample, draw_gt=False, draw_pred=True,
                show=False, with_labels=False)
            panels.append(vis.get_image())
        drawn = np.concatenate(panels, axis=1)
        out = pseudo_label_path(img_path, root, show_dir)
        os.makedirs(osp.dirname(out), exist_ok=True)
        cv2.imwrite(out, np.ascontiguousarray(drawn[..., ::-1]))
        count += 1
    return count


def datasets_from_config(cfg: Config) -> Tuple[dict, Optional[dict]]:
    """The target and source dataset configs of a UDA training config.

    Args:
        cfg (Config): A config whose ``train_dataloader.dataset`` is a
            ``UDADataset`` (stage 1, stage 2, FDA configs).

    Returns:
        tuple: ``(target, source)`` dataset configs.

    Raises:
        ValueError: If the config trains no UDADataset.
    """
    ds = cfg.get('train_dataloader', {}).get('dataset', {})
    if 'target' not in ds:
        raise ValueError(
            f'{getattr(cfg, "filename", "the config")}: train_dataloader.'
            "dataset has no 'target' (type "
            f"{ds.get('type')!r}); pass a UDA config (stage 1/2) whose "
            'train dataset is a UDADataset with source and target.')
    return ds['target'], ds.get('source')
