"""Save and restore random-number-generator state for exact resume.

mmengine 0.10.7 checkpoints hold the model, optimizer, schedulers and message
hub, but no RNG state, so a resumed run draws different crops, flips, dropout
masks and FDA references than the run it continues. This hook adds them.
"""
import random
import warnings
from typing import Any, Dict, List, Optional

import numpy as np
import torch
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.hooks import CheckpointHook, Hook
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop
from mmseg.registry import HOOKS

from ..runner.resumable_loop import ResumableIterBasedTrainLoop

__all__ = ['RNGStateHook', 'get_global_rng_state', 'set_global_rng_state']

CHECKPOINT_KEY = 'rng_state'


def get_global_rng_state() -> Dict[str, Any]:
    """Python, numpy and torch (CPU and CUDA) global RNG states.

    Only plain containers, ints and tensors, so the state loads under
    ``torch.load(weights_only=True)``.
    """
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state = dict(
        python=random.getstate(),
        numpy=(name, torch.from_numpy(keys.astype(np.int64)), int(pos),
               int(has_gauss), float(cached)),
        torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_global_rng_state(state: Dict[str, Any]) -> None:
    """Restore what :func:`get_global_rng_state` returned."""
    version, internal, gauss = state['python']
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state['numpy']
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos,
                         has_gauss, cached))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


@HOOKS.register_module()
class RNGStateHook(Hook):
    """Put every process's RNG state into checkpoints; restore it on resume.

    Saved under ``checkpoint['rng_state']``:

    * per rank: python ``random``, numpy's global ``RandomState``, torch's
      CPU (and CUDA) generators, and the train data preprocessor's own
      generator when it offers ``get_rng_state()`` / ``set_rng_state(state)``
      (the FDA reference sampler), and the segmentor's own generator when it
      offers the same pair (:class:`SelfTrainingEncoderDecoder`: ClassMix,
      augmentation and masking draws);
    * once: the train dataset's ``state_dict()`` when it has one and is not a
      module (``UDADataset``: pairing seed and epoch).

    On resume the states are restored in ``before_train_epoch``, i.e. after
    the data loader iterator exists and, with
    :class:`ResumableIterBasedTrainLoop`, after it has been moved past the
    consumed batches without loading them; the next batch is then drawn
    exactly as in the uninterrupted run. With mmengine's own
    ``IterBasedTrainLoop`` the skipped batches are loaded after the restore
    and consume random numbers, so the run is reproducible but not
    bit-identical; the hook warns about it.

    Validation during training runs between ``before_val`` and ``after_val``
    with the training RNG state put aside, so how often one validates does
    not change the training run.

    Exactness covers the main process: with ``num_workers=0`` a SIGKILLed
    and resumed CPU run ends bit-identical to an uninterrupted one. Loader
    workers are re-seeded by mmengine's ``worker_init_fn`` (seed, rank,
    worker id) when a loader starts, so with ``num_workers>0`` augmentations
    after a resume are reproducible but differ from the uninterrupted run.

    Saving on rank 0 needs the other ranks' states, so in distributed runs
    the states are gathered in ``after_train_iter`` of each iteration at
    which a :class:`CheckpointHook` will save. The hook's priority (85) puts
    it just before ``CheckpointHook`` (VERY_LOW, 90) there, and late in
    ``before_train_epoch``.
    """

    priority = 85

    def __init__(self) -> None:
        self._gathered: Optional[List[Dict[str, Any]]] = None
        self._pending: Optional[Dict[str, Any]] = None
        self._val_stash: Optional[Dict[str, Any]] = None

    # -- components ------------------------------------------------------
    @staticmethod
    def _model(runner) -> torch.nn.Module:
        model = runner.model
        return model.module if is_model_wrapper(model) else model

    def _preprocessor(self, runner) -> Any:
        pre = getattr(self._model(runner), 'data_preprocessor', None)
        if pre is not None and hasattr(pre, 'get_rng_state') and hasattr(
                pre, 'set_rng_state'):
            return pre
        return None

    def _segmentor(self, runner) -> Any:
        model = self._model(runner)
        if hasattr(model, 'get_rng_state') and hasattr(model, 'set_rng_state'):
            return model
        return None

    def _restore_components(self, runner, state: Dict[str, Any]) -> None:
        pre = self._preprocessor(runner)
        if pre is not None and 'data_preprocessor' in state:
            pre.set_rng_state(state['data_preprocessor'])
        seg = self._segmentor(runner)
        if seg is not None and 'segmentor' in state:
            seg.set_rng_state(state['segmentor'])

    @staticmethod
    def _dataset(runner) -> Any:
        loop = getattr(runner, '_train_loop', None)
        loader = getattr(loop, 'dataloader', None)
        dataset = getattr(loader, 'dataset', None)
        if dataset is None or isinstance(dataset, torch.nn.Module):
            return None
        if hasattr(dataset, 'state_dict') and hasattr(dataset,
                                                      'load_state_dict'):
            return dataset
        return None

    def _rank_state(self, runner) -> Dict[str, Any]:
        state = get_global_rng_state()
        pre = self._preprocessor(runner)
        if pre is not None:
            state['data_preprocessor'] = pre.get_rng_state()
        seg = self._segmentor(runner)
        if seg is not None:
            state['segmentor'] = seg.get_rng_state()
        return state

    @staticmethod
    def _checkpoint_hooks(runner) -> List[CheckpointHook]:
        return [h for h in runner.hooks if isinstance(h, CheckpointHook)]

    # -- saving ----------------------------------------------------------
    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        """Gather all ranks' states when a checkpoint is saved next."""
        self._gathered = None
        _, world_size = get_dist_info()
        if world_size == 1:
            return
        will_save = False
        for hook in self._checkpoint_hooks(runner):
            if hook.by_epoch:
                continue
            if hook.every_n_train_iters(runner, hook.interval,
                                        hook.save_begin) or (
                                            hook.save_last and
                                            hook.is_last_train_iter(runner)):
                will_save = True
        if will_save:
            self._gathered = all_gather_object(self._rank_state(runner))

    def after_train_epoch(self, runner) -> None:
        """Gather all ranks' states before an epoch-based save."""
        self._gathered = None
        _, world_size = get_dist_info()
        if world_size > 1 and any(
                h.by_epoch for h in self._checkpoint_hooks(runner)):
            self._gathered = all_gather_object(self._rank_state(runner))

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        """Add ``checkpoint['rng_state']``."""
        _, world_size = get_dist_info()
        if self._gathered is not None and len(self._gathered) == world_size:
            ranks = self._gathered
        elif self._val_stash is not None:
            # Saved during validation (a best checkpoint): record the
            # training state put aside in before_val, not the validation's.
            ranks = [self._val_stash]
        else:
            ranks = [self._rank_state(runner)]
        state: Dict[str, Any] = dict(
            world_size=world_size, iter=runner.iter, ranks=ranks)
        dataset = self._dataset(runner)
        if dataset is not None:
            state['dataset'] = dataset.state_dict()
        checkpoint[CHECKPOINT_KEY] = state

    # -- restoring -------------------------------------------------------
    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Keep the saved states until the train loop is ready for them."""
        self._pending = checkpoint.get(CHECKPOINT_KEY)
        if self._pending is not None:
            self._pending = dict(
                self._pending, iter=checkpoint.get('meta', {}).get(
                    'iter', self._pending.get('iter')))

    def before_train_epoch(self, runner) -> None:
        """Restore the states of a resumed run (not of ``load_from``)."""
        pending, self._pending = self._pending, None
        if pending is None or runner.iter == 0 or runner.iter != pending.get(
                'iter'):
            # Nothing saved, or weights loaded with load_from (a new run).
            return
        rank, world_size = get_dist_info()
        dataset = self._dataset(runner)
        if dataset is not None and 'dataset' in pending:
            dataset.load_state_dict(pending['dataset'])
        ranks = pending['ranks']
        if len(ranks) != world_size:
            warnings.warn(
                f'RNGStateHook: the checkpoint holds RNG states of '
                f'{len(ranks)} process(es) but this run has {world_size}; '
                'RNG states are not restored, so the resumed run is not '
                'bit-identical to an uninterrupted one.')
            return
        state = ranks[rank]
        set_global_rng_state(state)
        self._restore_components(runner, state)
        loop = runner.train_loop
        # An epoch-based loop restarts its epoch without replaying batches;
        # ResumableIterBasedTrainLoop says whether its skip loaded batches.
        replays = not isinstance(loop, EpochBasedTrainLoop) and not (
            isinstance(loop, ResumableIterBasedTrainLoop)
            and loop.skips_without_loading)
        if replays:
            warnings.warn(
                'RNGStateHook: the train loop re-loads the skipped batches '
                'after the RNG states were restored, so this resume is '
                "reproducible but not bit-identical; use train_cfg=dict("
                "type='ResumableIterBasedTrainLoop', ...).")
        runner.logger.info(
            f'RNGStateHook: restored RNG states of {world_size} process(es) '
            f'saved at iteration {pending["iter"]}.')

    # -- validation inside training --------------------------------------
    def before_val(self, runner) -> None:
        """Put the training RNG state aside."""
        self._val_stash = self._rank_state(runner)

    def after_val(self, runner) -> None:
        """Give the training RNG state back."""
        stash, self._val_stash = self._val_stash, None
        if stash is None:
            return
        set_global_rng_state(stash)
        self._restore_components(runner, stash)
