"""Generate (or reuse) target pseudo labels and train on them.

Self-training as in FDA (Yang & Soatto, CVPR 2020): a stage-1 model labels
the target training set (:func:`mmseg_fdacl.apis.generate_pseudo_labels`), the
next stage trains on those labels, optionally with further rounds labeled by
the model being trained.
"""
import inspect
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

import torch
from mmengine.dist import barrier, get_rank
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner.loops import _InfiniteDataloaderIterator
from mmseg.registry import HOOKS

from mmseg_fdacl.datasets.uda_dataset import UDADataset
from mmseg_fdacl.pseudo_labels import (generate_pseudo_labels,
                                       inference_pipeline_from_cfg)
from mmseg_fdacl.pseudo_labels.driver import SETTING_NAMES, validate_settings
from mmseg_fdacl.pseudo_labels.report import log_flag
from mmseg_fdacl.utils.atomic_io import atomic_write_with


def find_uda_dataset(dataset):
    """The :class:`UDADataset` inside dataset wrappers.

    Args:
        dataset: A dataset, possibly wrapped (``.dataset``/``.datasets``).

    Returns:
        The (UDA) dataset.

    Raises:
        TypeError: If no such dataset is found.
    """
    todo = [dataset]
    while todo:
        ds = todo.pop(0)
        if isinstance(ds, UDADataset):
            return ds
        if hasattr(ds, 'dataset'):
            todo.append(ds.dataset)
        todo.extend(getattr(ds, 'datasets', []) or [])
    raise TypeError(
        'PseudoLabelHook: the train dataset must be (or wrap) a UDADataset '
        f'with set_pseudo_label_dir; got {type(dataset).__name__}.')


# A shim, and the only code of the project that touches private attributes
# of torch/mmengine (``DataLoader._iterator``, ``_shutdown_workers``,
# ``_InfiniteDataloaderIterator``): neither torch's DataLoader nor mmengine's
# loops offer a public way to restart workers so that they copy a changed
# dataset. Revisit when mmengine builds its loop iterator in ``run()``.
def restart_train_dataloader(runner) -> list:
    """Make the training dataloader's workers re-read the dataset.

    Why: mmengine 0.10.7's ``IterBasedTrainLoop.__init__`` creates its
    dataloader iterator before ``before_train``, so with ``num_workers > 0``
    worker processes already hold a copy of the dataset made before the
    pseudo-label folder was set (and with ``persistent_workers`` the
    DataLoader keeps them across epochs). This shuts those workers down and,
    for iteration-based loops, creates a new iterator whose new workers copy
    the updated dataset; the batches the old workers had prefetched are
    skipped (the sampler continues after them). Epoch-based loops create a
    new iterator every epoch: there the switch takes effect from the next
    epoch (new workers). With ``num_workers == 0`` the loader reads the
    dataset object itself, so nothing is restarted.

    The old iterators are returned, not dropped: mmengine's
    ``InfiniteSampler`` hands every ``iter()`` the same index generator, and
    garbage-collecting an old iterator would close it (``yield from``
    forwards ``close()``), ending the new iterator too. Keep the returned
    list alive as long as training runs.

    Returns:
        list: The retired iterators (empty when nothing was restarted).
    """
    loop = runner.train_loop
    loader = loop.dataloader
    if getattr(loader, 'num_workers', 0) == 0:
        return []
    old = getattr(loop, 'dataloader_iterator', None)
    if old is None:
        # Epoch-based loop: it calls iter(loader) at every epoch, and the
        # iterator of a running epoch must not be stopped. Dropping the
        # persistent-worker iterator makes the next epoch start new workers.
        loader._iterator = None
        return []
    retired = [
        it for it in (getattr(old, '_iterator', None),
                      getattr(loader, '_iterator', None)) if it is not None
    ]
    for it in retired:
        if hasattr(it, '_shutdown_workers'):
            it._shutdown_workers()
    # torch keeps the persistent-worker iterator here; None forces new
    # workers (with the updated dataset) on the next iter(loader).
    loader._iterator = None
    new = _InfiniteDataloaderIterator(loader)
    new._epoch = getattr(old, '_epoch', 0)
    loop.dataloader_iterator = new
    retired.append(old)
    return retired


#: The keyword settings of generate_pseudo_labels the hook passes on, with
#: its defaults (one source of truth: the library function's signature).
SETTINGS = {
    name: param.default
    for name, param in inspect.signature(
        generate_pseudo_labels).parameters.items()
    if name in SETTING_NAMES
}
_RANGED = ('beta', 'percentile', 'cap', 'threshold', 'num_bins', 'selection',
           'portion')


@HOOKS.register_module()
class PseudoLabelHook(Hook):
    """Point the target domain at pseudo labels, generating them if needed.

    ``before_train``: labels the target training set with ``checkpoints``
    (one, or several ensembled) into ``out_dir`` -- or reuses that folder if
    its manifest is complete for the same checkpoints and settings, or
    finishes it if a run was interrupted -- then calls
    ``UDADataset.set_pseudo_label_dir`` and restarts the training dataloader
    (see :func:`restart_train_dataloader`), and logs the folder's flag
    (:func:`mmseg_fdacl.pseudo_labels.report.log_flag`: a warning naming
    the classes the model predicts but the labels nearly never keep). The
    target pipeline must contain ``LoadPseudoLabel``.

    With ``interval``: every ``interval`` iterations (iteration-based loops)
    the current weights are saved to ``out_dir/round_<k>.pth`` (kept if it
    already exists, so a resumed run labels with the same weights) and label
    ``out_dir/round_<k>/``, FDA's self-training rounds. A run resumed at
    iteration ``i`` uses round ``i // interval``.

    Args:
        checkpoints (str | Sequence[str], optional): Stage-1 checkpoint(s).
            None (and no ``checkpoints_key``) labels with the runner's model
            as it is at ``before_train`` (e.g. after ``load_from``), saved as
            ``out_dir/round_0.pth``.
        checkpoints_key (str, optional): Instead of ``checkpoints``, the name
            of a top-level config variable holding the checkpoint path(s),
            read from the runner's config at ``before_train``: the stage-2
            configs use ``'stage1_checkpoint'``, so
            ``tools/train.py CONFIG --cfg-options stage1_checkpoint=PATH``
            is all a run needs. Default: None.
        out_dir (str, optional): Pseudo-label folder. Default:
            ``<work_dir>/pseudo_labels``.
        model (dict, optional): Model config used to predict. Default: the
            runner's ``cfg.model``.
        pipeline (Sequence[dict], optional): Inference pipeline. Default: the
            runner's ``cfg.pseudo_label_pipeline``, else its
            ``cfg.test_pipeline``, without ``LoadAnnotations``.
        interval (int, optional): Iterations between self-training rounds.
            Default: None (one set, before training).
        round_settings (dict, optional): Pseudo-label settings that replace
            these for rounds >= 1, which the model being trained labels
            (e.g. ``dict(grayscale=False, beta=None)``: a colour model on
            plain target images, as FDA's self-training rounds, where round
            0 was labeled by a grayscale stage 1 on source-styled images).
            Default: None (the same settings in every round).
        **settings: The pseudo-label settings of
            :func:`generate_pseudo_labels`, by keyword, with its defaults
            (:data:`SETTINGS`); an unknown name is refused:
        beta (float, optional): FDA target->source beta; None = no FDA.
            Default: 0.01.
        reference (str, optional): Fixed FDA reference image. Default: None
            (per target image, a seeded random image of the UDA source set).
        seed (int): Seed of the reference draw. Default: 0.
        grayscale (bool): Predict on grayscale images. Default: False.
        percentile (float): Per-class percentile. Default: 0.66.
        cap (float): Cap of the per-class thresholds. Default: 0.9.
        threshold (float, optional): Global threshold. Default: None.
        num_bins (int): Histogram bins. Default: 1000.
        selection (str): ``'fda'`` (FDA's thresholds) or ``'cbst'``
            (class-balanced selection, CBST). Default: ``'fda'``.
        portion (float): CBST's per-class share of pixels. Default: 0.2.
    """

    priority = 'NORMAL'

    def __init__(self,
                 checkpoints: Union[str, Sequence[str], None] = None,
                 out_dir: Optional[str] = None,
                 *,
                 checkpoints_key: Optional[str] = None,
                 model: Optional[dict] = None,
                 pipeline: Optional[Sequence[dict]] = None,
                 interval: Optional[int] = None,
                 round_settings: Optional[dict] = None,
                 **settings) -> None:
        if isinstance(checkpoints, str):
            checkpoints = [checkpoints]
        if checkpoints is not None and len(checkpoints) == 0:
            raise ValueError('PseudoLabelHook: `checkpoints` must name at '
                             'least one file, or be None (use the runner\'s '
                             'model); got an empty list.')
        if interval is not None and (not isinstance(interval, int)
                                     or interval < 1):
            raise ValueError('PseudoLabelHook: `interval` must be an int >= 1 '
                             f'or None, got {interval!r}.')
        if checkpoints_key is not None and (
                checkpoints is not None or not isinstance(checkpoints_key, str)
                or not checkpoints_key):
            raise ValueError(
                'PseudoLabelHook: give `checkpoints` or the name of a config '
                f'variable `checkpoints_key`, not both (got {checkpoints!r}, '
                f'{checkpoints_key!r}).')
        self.checkpoints = None if checkpoints is None else list(checkpoints)
        self.checkpoints_key = checkpoints_key
        self.out_dir = out_dir
        self.model = model
        self.pipeline = pipeline
        self.interval = interval
        unknown = sorted(set(settings) - set(SETTINGS))
        if unknown:
            raise ValueError(
                f'PseudoLabelHook: unknown settings {unknown}; the pseudo-'
                f'label settings are {sorted(SETTINGS)}.')
        self.kwargs = {k: settings.get(k, v) for k, v in SETTINGS.items()}
        # Fail at build time, not after the runner has started.
        self._check(**{k: self.kwargs[k] for k in _RANGED})
        round_settings = dict(round_settings or {})
        unknown = sorted(set(round_settings) - set(SETTINGS))
        if unknown:
            raise ValueError(
                f'PseudoLabelHook: unknown round_settings {unknown}; the '
                f'pseudo-label settings are {sorted(SETTINGS)}.')
        self.round_kwargs = {**self.kwargs, **round_settings}
        self._check(**{k: self.round_kwargs[k] for k in _RANGED})
        self.current_dir: Optional[str] = None
        self._retired: list = []  # see restart_train_dataloader

    @staticmethod
    def _check(**ranged) -> None:
        try:
            validate_settings(**ranged)
        except ValueError as err:
            raise ValueError(f'PseudoLabelHook: {err}') from None

    # -- helpers ---------------------------------------------------------
    def _checkpoints(self, runner) -> Optional[List[str]]:
        """The stage-1 checkpoints: given, from the config, or None."""
        if self.checkpoints_key is None:
            return self.checkpoints
        value = runner.cfg.get(self.checkpoints_key)
        paths = [value] if isinstance(value, str) else list(value or [])
        if not paths:
            raise ValueError(
                f'PseudoLabelHook: the config variable '
                f'`{self.checkpoints_key}` names no checkpoint; pass the '
                f'stage-1 checkpoint with --cfg-options '
                f'{self.checkpoints_key}=PATH.')
        missing = [p for p in paths if not osp.isfile(p)]
        if missing:
            raise FileNotFoundError(
                f'PseudoLabelHook: the stage-1 checkpoint {missing[0]!r} '
                f'(config variable `{self.checkpoints_key}`) does not exist; '
                f'train stage 1 first or pass --cfg-options '
                f'{self.checkpoints_key}=PATH.')
        return paths

    def _root(self, runner) -> str:
        return self.out_dir or osp.join(runner.work_dir, 'pseudo_labels')

    def _save_current_weights(self, runner, path: str) -> str:
        """Save the training model's weights once (rank 0, atomically)."""
        if get_rank() == 0 and not osp.isfile(path):
            model = runner.model.module if is_model_wrapper(
                runner.model) else runner.model
            state = {k: v.detach().cpu() for k, v in
                     model.state_dict().items()}
            atomic_write_with(
                path, lambda tmp: torch.save(
                    dict(state_dict=state, meta=dict(iter=runner.iter)), tmp))
        barrier()
        return path

    def _label(self, runner, checkpoints: Sequence[str], out_dir: str,
               rnd: int = 0) -> None:
        uda = find_uda_dataset(runner.train_dataloader.dataset)
        if hasattr(uda, 'full_init'):
            uda.full_init()
        model_cfg = self.model if self.model is not None else runner.cfg.model
        pipeline = self.pipeline
        if pipeline is None:
            pipeline = inference_pipeline_from_cfg(
                runner.cfg.get('pseudo_label_pipeline',
                               runner.cfg.get('test_pipeline')))
        device = next(runner.model.parameters()).device
        generate_pseudo_labels(
            model_cfg,
            checkpoints,
            uda.target,
            out_dir,
            source_dataset=getattr(uda, 'source', None),
            pipeline=pipeline,
            device=device,
            show_progress=True,
            **(self.round_kwargs if rnd >= 1 else self.kwargs))
        uda.set_pseudo_label_dir(out_dir)
        self._retired.extend(restart_train_dataloader(runner))
        self.current_dir = out_dir
        print_log(f'PseudoLabelHook: training on the pseudo labels in '
                  f'{out_dir}', logger='current')
        # What the labels keep of each class (label_report.json): a class
        # the model predicts but the labels drop is a warning.
        log_flag(out_dir)

    # -- hook points -----------------------------------------------------
    def before_train(self, runner) -> None:
        """Generate or reuse the pseudo labels of the current round."""
        root = self._root(runner)
        rnd = runner.iter // self.interval if self.interval else 0
        if rnd == 0:
            checkpoints = self._checkpoints(runner)
            if checkpoints is not None:
                self._label(runner, checkpoints, root)
                return
            os.makedirs(root, exist_ok=True)
            ckpt = self._save_current_weights(
                runner, osp.join(root, 'round_0.pth'))
            self._label(runner, [ckpt], osp.join(root, 'round_0'))
            return
        ckpt = osp.join(root, f'round_{rnd}.pth')
        if not osp.isfile(ckpt):
            raise FileNotFoundError(
                f'PseudoLabelHook: resuming at iteration {runner.iter} needs '
                f'the weights of self-training round {rnd}, {ckpt!r}, which '
                'is missing. Resume from a checkpoint saved in this work_dir '
                'or remove `interval`.')
        self._label(runner, [ckpt], osp.join(root, f'round_{rnd}'), rnd)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Every ``interval`` iterations, label a new round."""
        if not self.interval:
            return
        done = runner.iter + 1
        if done % self.interval or done >= runner.max_iters:
            return
        rnd = done // self.interval
        root = self._root(runner)
        os.makedirs(root, exist_ok=True)
        ckpt = self._save_current_weights(runner,
                                          osp.join(root, f'round_{rnd}.pth'))
        self._label(runner, [ckpt], osp.join(root, f'round_{rnd}'), rnd)
