"""Data samplers registered into MMSeg's DATA_SAMPLERS registry."""
from .resumable_infinite_sampler import ResumableInfiniteSampler

__all__ = ['ResumableInfiniteSampler']
