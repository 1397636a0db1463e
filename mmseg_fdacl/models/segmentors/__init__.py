"""Segmentors registered into MMSeg's MODELS registry."""
from .uda_encoder_decoder import UDAEncoderDecoder

__all__ = ['UDAEncoderDecoder']
