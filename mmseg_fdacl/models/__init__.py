"""Models: backbones, heads, losses, data preprocessors and segmentors."""
from . import backbones, decode_heads, losses, segmentors  # noqa: F401
from .data_preprocessor import UDADataPreProcessor

__all__ = ['UDADataPreProcessor']
