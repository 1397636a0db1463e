"""Hooks registered into MMSeg's HOOKS registry."""

__all__ = []
