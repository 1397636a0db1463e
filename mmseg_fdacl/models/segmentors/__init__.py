"""Segmentors registered into MMSeg's MODELS registry."""
from .self_training_encoder_decoder import SelfTrainingEncoderDecoder
from .uda_encoder_decoder import UDAEncoderDecoder

__all__ = ['SelfTrainingEncoderDecoder', 'UDAEncoderDecoder']
