"""Models: backbones, heads, losses, data preprocessors and segmentors."""
from . import backbones, decode_heads, losses, segmentors  # noqa: F401
