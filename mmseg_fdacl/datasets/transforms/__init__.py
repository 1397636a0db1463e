"""Data transforms registered into MMSeg's TRANSFORMS registry."""
from .fda import FDA
from .pseudo_label import LoadPseudoLabel

__all__ = ['FDA', 'LoadPseudoLabel']
