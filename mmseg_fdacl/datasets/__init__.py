"""Datasets registered into MMSeg's DATASETS registry."""
from . import transforms  # noqa: F401

__all__ = []
