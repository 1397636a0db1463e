"""An InfiniteSampler that can start part-way through its index stream."""
import itertools
from typing import Iterator, Optional, Sized

import torch
from mmengine.dataset import InfiniteSampler
from mmseg.registry import DATA_SAMPLERS

from .pass_numbered import PassNumberedDataset

__all__ = ['ResumableInfiniteSampler']


@DATA_SAMPLERS.register_module()
class ResumableInfiniteSampler(InfiniteSampler):
    """mmengine's ``InfiniteSampler`` with a start offset, for resuming.

    The index stream is the same as ``InfiniteSampler``'s (seeded
    ``randperm`` passes, sliced by rank); :meth:`set_start_index` makes the
    next ``iter()`` begin ``n`` indices into this rank's stream, so a resumed
    run continues with the batch the killed run would have drawn next
    without loading the consumed ones. Each ``iter()`` starts a fresh stream
    at the current offset (``InfiniteSampler`` shares one generator between
    iterators instead), so a loader rebuilt after :meth:`set_start_index`
    does not see indices prefetched by an earlier one.

    Args:
        dataset (Sized): The dataset.
        shuffle (bool): Shuffle the indices. Default: True.
        seed (int, optional): Seed; None draws one shared by all ranks.
            Default: None.

    Raises:
        ValueError: If the dataset is empty (an infinite sampler over no
            samples would otherwise wait forever).
    """

    def __init__(self,
                 dataset: Sized,
                 shuffle: bool = True,
                 seed: Optional[int] = None) -> None:
        if len(dataset) == 0:
            raise ValueError(
                f'{type(dataset).__name__} has no samples, so training '
                'cannot draw a batch; check data_root/data_prefix (and the '
                'image suffix) of the training dataset.')
        super().__init__(dataset, shuffle=shuffle, seed=seed)
        self.start_index = 0

    def _infinite_indices(self) -> Iterator[int]:
        """mmengine's seeded passes; pass-numbered where the dataset asks.

        A :class:`PassNumberedDataset` (``UDADataset``) receives
        ``pass * len(dataset) + index`` so that it can vary what it pairs
        with a sample from one pass over the data to the next; nothing else
        in an iteration-based loop tells it which pass it is in.
        """
        numbered = isinstance(self.dataset, PassNumberedDataset)
        g = torch.Generator()
        g.manual_seed(self.seed)
        for epoch in itertools.count():
            if self.shuffle:
                order = torch.randperm(self.size, generator=g).tolist()
            else:
                order = list(range(self.size))
            offset = epoch * self.size if numbered else 0
            yield from (offset + i for i in order)

    def set_start_index(self, start_index: int) -> None:
        """Begin the next iteration ``start_index`` indices into the stream.

        Args:
            start_index (int): Indices of this rank to skip (the consumed
                iterations times the per-rank batch size).
        """
        if not isinstance(start_index, int) or start_index < 0:
            raise ValueError('start_index must be an int >= 0, got '
                             f'{start_index!r}')
        self.start_index = start_index

    def __iter__(self) -> Iterator[int]:
        """Iterate this rank's indices from the start offset on."""
        yield from itertools.islice(self._indices_of_rank(), self.start_index,
                                    None)
