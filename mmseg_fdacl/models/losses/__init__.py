"""Losses registered into MMSeg's MODELS registry."""
from .class_weights import class_weights_from_stats
from .entropy_loss import EntropyLoss
from .pixel_contrast_loss import PixelContrastLoss
from .valid_pixel_cross_entropy_loss import ValidPixelCrossEntropyLoss

__all__ = [
    'EntropyLoss', 'PixelContrastLoss', 'ValidPixelCrossEntropyLoss',
    'class_weights_from_stats'
]
