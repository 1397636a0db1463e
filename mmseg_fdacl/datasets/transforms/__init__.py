"""Data transforms registered into MMSeg's TRANSFORMS registry."""

__all__ = []
