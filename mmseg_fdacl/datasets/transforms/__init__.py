"""Data transforms registered into MMSeg's TRANSFORMS registry."""
from .pseudo_label import LoadPseudoLabel
from .safe_load_annotations import SafeLoadAnnotations
from .safe_load_image import SafeLoadImageFromFile

__all__ = [
    'LoadPseudoLabel', 'SafeLoadAnnotations', 'SafeLoadImageFromFile'
]
