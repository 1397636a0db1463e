"""Losses registered into MMSeg's MODELS registry."""
from .entropy_loss import EntropyLoss
from .pixel_contrast_loss import PixelContrastLoss

__all__ = ['EntropyLoss', 'PixelContrastLoss']
