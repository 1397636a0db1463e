"""Data transforms registered into MMSeg's TRANSFORMS registry."""
from .pseudo_label import LoadPseudoLabel
from .pseudo_label_margins import PackSegInputsWithMargins, PseudoLabelMargins
from .safe_load_annotations import SafeLoadAnnotations
from .safe_load_image import SafeLoadImageFromFile

__all__ = [
    'LoadPseudoLabel', 'PackSegInputsWithMargins', 'PseudoLabelMargins',
    'SafeLoadAnnotations', 'SafeLoadImageFromFile'
]
