"""Data transforms registered into MMSeg's TRANSFORMS registry."""
from .pseudo_label import LoadPseudoLabel

__all__ = ['LoadPseudoLabel']
