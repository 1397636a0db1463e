"""Backbones registered into MMSeg's MODELS registry."""

__all__ = []
