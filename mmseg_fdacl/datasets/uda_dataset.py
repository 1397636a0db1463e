"""A source sample paired with a target sample, for domain adaptation.

The source (labeled, e.g. GTA5) sets the length; each source index is paired
with a target (unlabeled, e.g. Cityscapes) index by a pure function of
``(seed, source index, epoch)``, so the pairing is the same in every dataloader
worker, under every MMSeg sampler, and after a resume. The target sample may
carry a pseudo label read from a folder written by the pseudo-label step
(``tools/generate_pseudo_labels.py``), at
:func:`mmseg_fdacl.utils.pseudo_label_path`. With rare class sampling
(:mod:`mmseg_fdacl.datasets.rare_class_sampling`) the source image of each
index is drawn class-first, again a pure function of the index.
"""
import copy
import json
import os.path as osp
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
from mmengine.dataset import BaseDataset
from mmengine.fileio import list_dir_or_file
from mmengine.logging import print_log
from mmseg.registry import DATASETS

from mmseg_fdacl.utils import pseudo_label_path
from .checks import check_data_dirs, check_not_empty
from .rare_class_sampling import (RareClassSampler, check_rare_class_sampling,
                                  rare_class_crop)
from .samplers.pass_numbered import PassNumberedDataset

_PAIRINGS = ('random', 'sequential')
# How many other target samples to try when the target pipeline returns None
# (the same rule as mmengine's ``BaseDataset.max_refetch``).
_MAX_REFETCH = 100


def _pipeline_types(dataset: BaseDataset) -> List[str]:
    """Names of the transforms in a dataset's pipeline."""
    transforms = getattr(dataset.pipeline, 'transforms', [])
    return [type(t).__name__ for t in transforms]


@DATASETS.register_module()
class UDADataset(PassNumberedDataset):
    """Pairs every source sample with a target sample.

    Each item is the source's packed sample ``{'inputs', 'data_samples'}``
    plus the target's as ``'target_inputs'`` and ``'target_data_samples'``;
    with a pseudo-label folder the target sample carries the pseudo label as
    ``gt_sem_seg`` (the target pipeline must then contain
    :class:`LoadPseudoLabel` right after the image is loaded, so crops and
    flips move image and label together).

    Pairing: ``'random'`` draws the target index from a generator seeded by
    ``(seed, epoch, source index)``; ``'sequential'`` takes
    ``(source index + epoch * len(source)) % len(target)``. Both are pure
    functions, so workers need no shared state and a resume that restores
    ``state_dict()`` (seed and epoch) gives the same pairs. ``set_epoch``
    changes the pairing from one pass to the next; a hook that calls it must
    do so before the dataloader's workers are created (or use
    ``persistent_workers=False``), because each worker holds its own copy.

    Args:
        source (dict | BaseDataset): The labeled source dataset or its
            config (e.g. ``GTA5Dataset``).
        target (dict | BaseDataset): The unlabeled target dataset or its
            config (e.g. ``CityscapesDataset`` with an image-only pipeline).
        pairing (str): ``'random'`` or ``'sequential'``. Default: 'random'.
        seed (int): Seed of the random pairing. Default: 0.
        pseudo_label_dir (str, optional): Folder of target pseudo labels.
            Every target image must have one. Default: None.
        rare_class_sampling (dict, optional): Draw the source image of each
            index with DAFormer's rare class sampling instead of taking
            source index ``idx``; keys (defaults): ``class_stats``
            ('class_stats.json', the converter's statistics, relative to
            the source ``data_root`` or absolute), ``temperature`` (0.01),
            ``min_pixels`` (3000) or ``min_pixels_fraction`` (None; a
            share of each image's labeled pixels, for images of any size,
            see :mod:`~mmseg_fdacl.datasets.rare_class_sampling`),
            ``min_crop_ratio`` (0.5; 0 keeps the first crop). The draw is seeded by ``(seed, epoch, idx)``, the
            target pairing stays that of position ``idx``. Default: None
            (off).
        lazy_init (bool): Defer :meth:`full_init` (and the pseudo-label
            and class-statistics checks) until the runner calls it.
            Default: False.

    Raises:
        ValueError: If ``pairing``, ``seed`` or ``rare_class_sampling`` is
            invalid, if the two domains differ in classes, palette or ignore
            index, if a pseudo label is missing, or if the class statistics
            do not match the source.
    """

    def __init__(self,
                 source: Union[dict, BaseDataset],
                 target: Union[dict, BaseDataset],
                 *,
                 pairing: str = 'random',
                 seed: int = 0,
                 pseudo_label_dir: Optional[str] = None,
                 rare_class_sampling: Optional[dict] = None,
                 lazy_init: bool = False) -> None:
        if pairing not in _PAIRINGS:
            raise ValueError(f'UDADataset: `pairing` must be one of '
                             f'{_PAIRINGS}, got {pairing!r}.')
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ValueError(
                f'UDADataset: `seed` must be an int >= 0, got {seed!r}.')
        self.source = self._build(source, 'source')
        self.target = self._build(target, 'target')
        self.pairing = pairing
        self.seed = seed
        self.epoch = 0
        self.pseudo_label_dir = pseudo_label_dir
        self.rare_class_sampling = None if rare_class_sampling is None else \
            check_rare_class_sampling(rare_class_sampling)
        self.rare_class_sampler: Optional[RareClassSampler] = None
        self._check_same_label_space()
        self._metainfo = copy.deepcopy(self.source.metainfo)
        self._fully_initialized = False
        if pseudo_label_dir is not None:
            self._check_pipeline_loads_pseudo_labels()
        if not lazy_init:
            self.full_init()

    @staticmethod
    def _build(dataset: Union[dict, BaseDataset], name: str) -> BaseDataset:
        if isinstance(dataset, dict):
            kind = dataset.get('type', 'dataset')
            kind = kind if isinstance(kind, str) else kind.__name__
            check_data_dirs(kind, dataset.get('data_root'),
                            dataset.get('data_prefix'))
            # Lazily, so that an empty image folder is named here instead of
            # failing inside mmengine's serialization of an empty list.
            built = DATASETS.build(dict(dataset, lazy_init=True))
            img_dir = built.data_prefix.get('img_path') or built.data_root
            suffix = getattr(built, 'img_suffix', '')
            if img_dir and osp.isdir(img_dir) and next(
                    iter(list_dir_or_file(img_dir, list_dir=False,
                                          suffix=suffix, recursive=True)),
                    None) is None:
                check_not_empty(kind, 0, img_dir, suffix, role=name)
            return built
        if hasattr(dataset, 'get_data_info') and hasattr(dataset, 'pipeline'):
            return dataset
        raise TypeError(f'UDADataset: `{name}` must be a dataset config dict '
                        f'or a dataset, got {type(dataset).__name__}.')

    def _check_same_label_space(self) -> None:
        src, trg = self.source.metainfo, self.target.metainfo
        for key in ('classes', 'palette'):
            a, b = src.get(key), trg.get(key)
            a = None if a is None else [
                list(x) if isinstance(x, (list, tuple)) else x for x in a]
            b = None if b is None else [
                list(x) if isinstance(x, (list, tuple)) else x for x in b]
            if a != b:
                raise ValueError(
                    f'UDADataset: source and target must share `{key}`; '
                    f'source {type(self.source).__name__} has {a!r}, target '
                    f'{type(self.target).__name__} has {b!r}. Give both '
                    f'datasets the same metainfo.')
        a = getattr(self.source, 'ignore_index', 255)
        b = getattr(self.target, 'ignore_index', 255)
        if a != b:
            raise ValueError(
                'UDADataset: source and target must share `ignore_index`; '
                f'source has {a!r}, target has {b!r}.')

    def _check_pipeline_loads_pseudo_labels(self) -> None:
        if 'LoadPseudoLabel' not in _pipeline_types(self.target):
            raise ValueError(
                'UDADataset: `pseudo_label_dir` is set but the target '
                f'pipeline {_pipeline_types(self.target)} has no LoadPseudoLabel; add '
                "dict(type='LoadPseudoLabel') right after LoadImageFromFile.")

    # -- mmengine dataset protocol ---------------------------------------
    @property
    def metainfo(self) -> dict:
        """The source's metainfo (classes, palette), shared by the target."""
        return copy.deepcopy(self._metainfo)

    def full_init(self) -> None:
        """Fully initialize both datasets and check the pseudo labels."""
        if self._fully_initialized:
            return
        self.source.full_init()
        self.target.full_init()
        if len(self.source) == 0 or len(self.target) == 0:
            raise ValueError(
                f'UDADataset: both domains need samples; source has '
                f'{len(self.source)}, target has {len(self.target)}. Check '
                'data_root and data_prefix of each.')
        if self.rare_class_sampling is not None:
            self._build_rare_class_sampler()
        self._fully_initialized = True
        if self.pseudo_label_dir is not None:
            self.set_pseudo_label_dir(self.pseudo_label_dir)

    def _build_rare_class_sampler(self) -> None:
        self.rare_class_sampler = RareClassSampler.from_dataset(
            self.source, **self.rare_class_sampling)
        probs = ', '.join(
            f'{name}: {p:.4f}' for name, p in zip(
                self._metainfo['classes'], self.rare_class_sampler.probs))
        print_log(f'UDADataset: rare class sampling, class probabilities '
                  f'{{{probs}}}', logger='current')

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self.source)

    # -- pairing ---------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Select the pairing of pass ``epoch`` (a pure function of it)."""
        if not isinstance(epoch, int) or epoch < 0:
            raise ValueError(
                f'UDADataset: `epoch` must be an int >= 0, got {epoch!r}.')
        self.epoch = epoch

    def state_dict(self) -> Dict[str, Any]:
        """Everything the pairing depends on, for an exact resume."""
        state = dict(seed=self.seed, epoch=self.epoch, pairing=self.pairing)
        if self.rare_class_sampling is not None:
            state['rare_class_sampling'] = self._rare_class_settings()
        return state

    def _rare_class_settings(self) -> Optional[Dict[str, Any]]:
        cfg = self.rare_class_sampling
        # Unset options are left out, so checkpoints saved before an option
        # existed resume unchanged.
        return None if cfg is None else {
            k: v for k, v in cfg.items()
            if k != 'class_stats' and v is not None}

    def load_state_dict(self, state: Dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.seed = int(state['seed'])
        self.set_epoch(int(state['epoch']))
        if state.get('pairing', self.pairing) != self.pairing:
            raise ValueError(
                f"UDADataset: the saved pairing {state['pairing']!r} differs "
                f'from the configured {self.pairing!r}.')
        saved = state.get('rare_class_sampling')
        if saved != self._rare_class_settings():
            raise ValueError(
                f'UDADataset: the saved rare_class_sampling {saved!r} '
                f'differs from the configured {self._rare_class_settings()!r}'
                '; resume with the settings the run was started with.')

    def target_index(self, idx: int, epoch: Optional[int] = None) -> int:
        """The target index paired with source index ``idx``.

        Args:
            idx (int): Source index.
            epoch (int, optional): Pass number; default: the current epoch.

        Returns:
            int: Index into the target dataset.
        """
        epoch = self.epoch if epoch is None else epoch
        n_trg = len(self.target)
        if self.pairing == 'sequential':
            return (idx + epoch * len(self.source)) % n_trg
        rng = np.random.default_rng([self.seed, epoch, idx])
        return int(rng.integers(n_trg))

    def source_index(self, idx: int, epoch: Optional[int] = None) -> int:
        """The source index at position ``idx``, drawn if RCS is on.

        Without rare class sampling this is ``idx``; with it, the draw of
        ``(seed, epoch, idx)``, the same in every worker, rank and resume.

        Args:
            idx (int): Position in ``range(len(self))``.
            epoch (int, optional): Pass number; default: the current epoch.

        Returns:
            int: Index into the source dataset.
        """
        return self._source_draw(idx, epoch)[1]

    def _source_draw(self, idx: int,
                     epoch: Optional[int] = None) -> Tuple[Optional[int], int]:
        if self.rare_class_sampling is None:
            return None, idx
        if not self._fully_initialized:
            self.full_init()
        epoch = self.epoch if epoch is None else epoch
        return self.rare_class_sampler.draw(self.seed, epoch, idx)

    # -- pseudo labels ---------------------------------------------------
    @property
    def target_img_root(self) -> str:
        """Root of the target image tree (pseudo-label paths mirror it)."""
        prefix = self.target.data_prefix.get('img_path', '')
        return prefix or self.target.data_root

    def set_pseudo_label_dir(self, path: Optional[str]) -> None:
        """Point the target samples at the pseudo labels in ``path``.

        Args:
            path (str, optional): Folder written by the pseudo-label step;
                None removes the pseudo labels.

        Raises:
            FileNotFoundError: Naming the first target image whose pseudo
                label is missing.
        """
        if path is None:
            self.pseudo_label_dir = None
            return
        self._check_pipeline_loads_pseudo_labels()
        if not osp.isdir(path):
            raise FileNotFoundError(
                f'UDADataset: pseudo-label folder {path!r} does not exist; '
                'run tools/generate_pseudo_labels.py with a stage-1 '
                'checkpoint first.')
        self._check_manifest_classes(path)
        if self._fully_initialized:
            root = self.target_img_root
            for i in range(len(self.target)):
                img_path = self.target.get_data_info(i)['img_path']
                label = pseudo_label_path(img_path, root, path)
                if not osp.isfile(label):
                    raise FileNotFoundError(
                        f'UDADataset: pseudo label {label!r} of target image '
                        f'{img_path!r} is missing from {path!r}; run '
                        'tools/generate_pseudo_labels.py on this target set '
                        'first.')
        self.pseudo_label_dir = path

    def _check_manifest_classes(self, path: str) -> None:
        """Refuse pseudo labels made for another class list."""
        manifest = osp.join(path, 'manifest.json')
        if not osp.isfile(manifest):
            return
        with open(manifest) as f:
            classes = json.load(f).get('classes')
        ours = list(self._metainfo.get('classes', ()))
        if classes and list(classes) != ours:
            raise ValueError(
                f'UDADataset: the pseudo labels in {path!r} were made for '
                f'{len(classes)} classes {classes} but this dataset has '
                f'{len(ours)} {ours}; regenerate them with a model of this '
                'label space (tools/generate_pseudo_labels.py).')

    # -- items -----------------------------------------------------------
    def _target_item(self, t_idx: int) -> dict:
        n_trg = len(self.target)
        for attempt in range(_MAX_REFETCH + 1):
            info = self.target.get_data_info((t_idx + attempt) % n_trg)
            if self.pseudo_label_dir is not None:
                info['pseudo_label_path'] = pseudo_label_path(
                    info['img_path'], self.target_img_root,
                    self.pseudo_label_dir)
            item = self.target.pipeline(info)
            if item is not None:
                return item
        raise RuntimeError(
            f'UDADataset: the target pipeline returned None for '
            f'{_MAX_REFETCH + 1} samples from index {t_idx}; check it.')

    def __getitem__(self, idx: int) -> dict:
        """Source sample ``idx % len`` with its target of pass ``idx // len``.

        Indices beyond the length come from a pass-numbering sampler
        (``ResumableInfiniteSampler``): the pass selects the pairing, so a
        source image meets other target images on later passes. Plain
        indices use the pairing of :attr:`epoch`. With rare class sampling
        the source sample is :meth:`source_index`'s draw, its crop redrawn
        until it holds the drawn class (``min_crop_ratio``).
        """
        if not self._fully_initialized:
            self.full_init()
        num_passes, idx = divmod(int(idx), len(self.source))
        class_id, s_idx = self._source_draw(idx, self.epoch + num_passes)
        if class_id is None:
            item = dict(self.source[idx])
        else:
            sampler = self.rare_class_sampler
            item = dict(rare_class_crop(
                lambda: self.source[s_idx], class_id,
                sampler.min_crop_pixels,
                min_fraction=sampler.min_crop_fraction,
                ignore_index=getattr(self.source, 'ignore_index', 255)))
        trg = self._target_item(
            self.target_index(idx, self.epoch + num_passes))
        item['target_inputs'] = trg['inputs']
        item['target_data_samples'] = trg['data_samples']
        return item

    def __repr__(self) -> str:
        src, trg = self.source, self.target
        rcs = '' if self.rare_class_sampling is None else \
            f', rare_class_sampling={self.rare_class_sampling!r}'
        return (f'{self.__class__.__name__}(source={type(src).__name__}'
                f'({len(src)}), target={type(trg).__name__}({len(trg)}), '
                f'pairing={self.pairing!r}, seed={self.seed}, '
                f'pseudo_label_dir={self.pseudo_label_dir!r}{rcs})')
