"""Models: backbones, heads, losses, data preprocessors and segmentors."""
from . import backbones, decode_heads, losses, segmentors  # noqa: F401
from .data_preprocessor import UDADataPreProcessor
from .teacher_ema import TeacherEMA

__all__ = ['TeacherEMA', 'UDADataPreProcessor']
