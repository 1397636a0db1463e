"""``manifest.json``: what a pseudo-label folder was made with, and how far.

The manifest's ``settings`` are everything that changes the labels
(checkpoint contents, prediction config, image list, FDA, grayscale,
threshold rule); ``settings_hash`` is the sha256 of their sorted JSON. A
folder is reused or resumed only when its hash is the current one; otherwise
:class:`PseudoLabelSettingsError` names the differing settings. Keys, values
and the hash are a file format: existing folders stay reusable only while
they do not change.
"""
import hashlib
import json
import os.path as osp
from typing import Any, List, Optional, Sequence

import numpy as np
from mmengine.config import Config, ConfigDict

from mmseg_fdacl.utils.atomic_io import atomic_write
from .files import has_png

__all__ = [
    'MANIFEST_NAME', 'MANIFEST_VERSION', 'PseudoLabelSettingsError',
    'sha256_file', 'json_ready', 'sha256_json', 'make_settings',
    'settings_diff', 'new_manifest', 'read_manifest', 'write_manifest',
    'reusable_manifest'
]

MANIFEST_NAME = 'manifest.json'
MANIFEST_VERSION = 1


class PseudoLabelSettingsError(ValueError):
    """An output folder holds pseudo labels made with other settings."""


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            digest.update(block)
    return digest.hexdigest()


def json_ready(obj: Any) -> Any:
    """Config values -> plain JSON types (tuples become lists).

    Numpy scalars become Python numbers; anything else that JSON cannot hold
    becomes its ``repr``.
    """
    if isinstance(obj, (Config, ConfigDict)):
        obj = obj.to_dict() if isinstance(obj, Config) else dict(obj)
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, (np.integer, np.floating)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    return repr(obj)


def sha256_json(obj: Any) -> str:
    """Hex sha256 of ``obj``'s JSON with sorted keys (the settings hash)."""
    return hashlib.sha256(
        json.dumps(json_ready(obj), sort_keys=True).encode()).hexdigest()


def make_settings(*, checkpoints: Sequence[str], model: dict,
                  pipeline: Sequence[dict], rel_paths: Sequence[str],
                  source_paths: Sequence[str], beta: Optional[float],
                  reference: Optional[str], seed: int, grayscale: bool,
                  percentile: float, cap: float, threshold: Optional[float],
                  num_bins: int, selection: str = 'fda',
                  portion: float = 0.2) -> dict:
    """The ``settings`` of a manifest: all that changes the labels.

    Settings that do not apply are None (no seed without a random reference
    draw; no percentile, cap or bins with a global threshold; no percentile
    or cap with ``selection='cbst'``), so that they do not make equal sets
    look different. ``selection`` and ``portion`` are stored only for a rule
    other than FDA's: with the default the settings, and so their hash, are
    those of folders made before the option existed, which stay reusable.

    Args:
        checkpoints (Sequence[str]): Checkpoint files (hashed by content).
        model (dict): Model config; its ``data_preprocessor`` and
            ``test_cfg`` are kept.
        pipeline (Sequence[dict]): Inference pipeline.
        rel_paths (Sequence[str]): Target images relative to the image root.
        source_paths (Sequence[str]): Source images of the reference draw
            (kept by base name), or empty.
        beta, reference, seed, grayscale, percentile, cap, threshold,
            num_bins, selection, portion: As :func:`generate_pseudo_labels`
            takes them.

    Returns:
        dict: The settings.
    """
    random_reference = beta is not None and reference is None
    per_class = threshold is None
    fda_rule = selection == 'fda'
    settings = dict(
        checkpoint_sha256=[sha256_file(c) for c in checkpoints],
        model_test=json_ready(
            dict(
                data_preprocessor=model.get('data_preprocessor'),
                test_cfg=model.get('test_cfg'))),
        pipeline=json_ready(pipeline),
        target_images=dict(
            count=len(rel_paths), list_sha256=sha256_json(rel_paths)),
        beta=beta,
        reference=(None if reference is None else sha256_file(reference)),
        source_images=(sha256_json([osp.basename(p) for p in source_paths])
                       if source_paths else None),
        seed=seed if random_reference else None,
        grayscale=bool(grayscale),
        percentile=percentile if per_class and fda_rule else None,
        cap=cap if per_class and fda_rule else None,
        threshold=threshold,
        num_bins=num_bins if per_class else None,
    )
    if not fda_rule:
        settings.update(selection=selection, portion=portion)
    return settings


def settings_diff(old: dict, new: dict) -> List[str]:
    """``key: old (folder) != new (now)`` for every differing setting."""
    keys = sorted(set(old) | set(new))
    return [
        f'{k}: {old.get(k)!r} (folder) != {new.get(k)!r} (now)' for k in keys
        if old.get(k) != new.get(k)
    ]


def new_manifest(settings: dict, settings_hash: str,
                 checkpoints: Sequence[str], img_root: str, num_images: int,
                 classes: Sequence[str]) -> dict:
    """The manifest of a set not started yet (no thresholds, not complete)."""
    return dict(
        version=MANIFEST_VERSION,
        settings=settings,
        settings_hash=settings_hash,
        checkpoints=[
            dict(path=osp.abspath(c), sha256=h)
            for c, h in zip(checkpoints, settings['checkpoint_sha256'])
        ],
        image_root=osp.abspath(img_root),
        num_images=num_images,
        classes=list(classes),
        thresholds=None,
        thresholds_final=False,
        predicted_pixels=None,
        labelled_pixels=None,
        ignored_pixels=None,
        complete=False)


def write_manifest(out_dir: str, manifest: dict) -> None:
    """Atomically write ``out_dir/manifest.json`` (indented, sorted keys)."""
    atomic_write(
        osp.join(out_dir, MANIFEST_NAME),
        json.dumps(manifest, indent=2, sort_keys=True))


def read_manifest(out_dir: str) -> Optional[dict]:
    """``out_dir/manifest.json`` as a dict, or None when there is none.

    Raises:
        PseudoLabelSettingsError: If the file is not valid JSON.
    """
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


def reusable_manifest(out_dir: str, settings: dict,
                      settings_hash: str) -> Optional[dict]:
    """The manifest in ``out_dir`` if it may be reused or resumed.

    Args:
        out_dir (str): Output folder (it may not exist).
        settings (dict): The current settings (:func:`make_settings`).
        settings_hash (str): Their :func:`sha256_json`.

    Returns:
        dict | None: The stored manifest, or None for a new folder.

    Raises:
        PseudoLabelSettingsError: The folder holds PNGs but no manifest, or a
            set made with other settings.
    """
    existing = read_manifest(out_dir)
    if existing is None and osp.isdir(out_dir) and has_png(out_dir):
        raise PseudoLabelSettingsError(
            f'{out_dir!r} holds PNG files but no {MANIFEST_NAME}: it is not a '
            'pseudo-label folder made by mmseg_fdacl. Choose an empty or new '
            'output folder.')
    if existing is not None and existing.get('settings_hash') != \
            settings_hash:
        diff = settings_diff(existing.get('settings', {}), settings)
        raise PseudoLabelSettingsError(
            f'{out_dir!r} holds pseudo labels made with other settings or '
            'checkpoints, which are never reused silently. Differences: ' +
            '; '.join(diff or ['manifest version']) +
            '. Use another output folder, or delete this one to regenerate.')
    return existing
