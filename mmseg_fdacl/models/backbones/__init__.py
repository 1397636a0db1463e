"""Backbones registered into MMSeg's MODELS registry."""
from .enet import ENet
from .vgg import VGG16

__all__ = ['ENet', 'VGG16']
