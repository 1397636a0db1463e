"""Backbones registered into MMSeg's MODELS registry."""
from .enet import ENet

__all__ = ['ENet']
