"""An iteration-based train loop whose resume skips batches without loading."""
import logging
from typing import Any, Optional

from mmengine.logging import print_log
from mmengine.runner import IterBasedTrainLoop
# mmengine's wrapper that restarts a finite loader; reused, not re-written.
from mmengine.runner.loops import _InfiniteDataloaderIterator
from mmseg.registry import LOOPS

__all__ = ['ResumableIterBasedTrainLoop']


class _SkipIterator:
    """Returns ``None`` for the first ``num_skip`` calls, then delegates.

    mmengine's ``IterBasedTrainLoop.run`` calls ``next()`` once per consumed
    iteration after a resume; those calls are answered here without touching
    the loader, which already starts at the right index.
    """

    def __init__(self, iterator: Any, num_skip: int) -> None:
        self._iterator = iterator
        self._num_skip = num_skip

    def __iter__(self) -> '_SkipIterator':
        return self

    def __next__(self) -> Any:
        if self._num_skip > 0:
            self._num_skip -= 1
            return None
        return next(self._iterator)


def _find_resumable_sampler(dataloader: Any) -> Optional[Any]:
    for owner in (dataloader, getattr(dataloader, 'batch_sampler', None)):
        sampler = getattr(owner, 'sampler', None)
        if sampler is not None and hasattr(sampler, 'set_start_index'):
            return sampler
    return None


def _batch_size(dataloader: Any) -> int:
    if getattr(dataloader, 'batch_size', None) is not None:
        return int(dataloader.batch_size)
    return int(dataloader.batch_sampler.batch_size)


@LOOPS.register_module()
class ResumableIterBasedTrainLoop(IterBasedTrainLoop):
    """``IterBasedTrainLoop`` that resumes without re-loading consumed data.

    mmengine's loop advances the loader one batch per finished iteration
    after a resume, loading (and augmenting) every skipped batch. With a
    sampler offering ``set_start_index`` (:class:`ResumableInfiniteSampler`)
    this loop instead starts the sampler ``iter * batch_size`` indices into
    its stream and rebuilds the loader iterator, so resuming at iteration
    100k costs nothing. The rest of the loop (hooks, validation, stopping) is
    mmengine's. Without such a sampler it warns and behaves like mmengine's.

    ``RNGStateHook`` restores the RNG states in ``before_train_epoch``, after
    this skip, which makes a CPU resume with ``num_workers=0`` bit-identical.

    Args: as :class:`mmengine.runner.IterBasedTrainLoop`.
    """

    #: False once a resume had to load the skipped batches again (no
    #: resumable sampler), i.e. the skip consumed random numbers; read by
    #: RNGStateHook to warn that such a resume is not bit-identical.
    skips_without_loading = True

    def run(self) -> Any:
        """Move the sampler past consumed batches, then run mmengine's loop."""
        if self._iter > 0:
            sampler = _find_resumable_sampler(self.dataloader)
            if sampler is None:
                self.skips_without_loading = False
                print_log(
                    'ResumableIterBasedTrainLoop: the train sampler '
                    f'{type(self.dataloader.sampler).__name__} has no '
                    'set_start_index, so the consumed batches are loaded '
                    "again; use sampler=dict(type='ResumableInfiniteSampler')"
                    ' to skip them without loading.',
                    logger='current',
                    level=logging.WARNING)
            else:
                num = self._iter * _batch_size(self.dataloader)
                sampler.set_start_index(num)
                print_log(
                    f'ResumableIterBasedTrainLoop: resuming at iteration '
                    f'{self._iter}; the sampler skips {num} indices of this '
                    'rank without loading them.',
                    logger='current')
                # Drop the iterator built in __init__ (its workers may have
                # prefetched indices from the old start).
                self.dataloader_iterator = _SkipIterator(
                    _InfiniteDataloaderIterator(self.dataloader), self._iter)
        return super().run()
