"""Data samplers registered into MMSeg's DATA_SAMPLERS registry."""
from .pass_numbered import PassNumberedDataset
from .resumable_infinite_sampler import ResumableInfiniteSampler

__all__ = ['PassNumberedDataset', 'ResumableInfiniteSampler']
