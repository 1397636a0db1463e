"""Small helpers shared across mmseg_fdacl."""
from .paths import pseudo_label_path

__all__ = ['pseudo_label_path']
