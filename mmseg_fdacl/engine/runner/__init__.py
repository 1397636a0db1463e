"""Train loops registered into MMSeg's LOOPS registry."""
from .resumable_loop import ResumableIterBasedTrainLoop

__all__ = ['ResumableIterBasedTrainLoop']
