"""Segmentors registered into MMSeg's MODELS registry."""
from .hrda_encoder_decoder import HRDAEncoderDecoder
from .hrda_self_training_encoder_decoder import HRDASelfTrainingEncoderDecoder
from .self_training_encoder_decoder import SelfTrainingEncoderDecoder
from .uda_encoder_decoder import UDAEncoderDecoder

__all__ = [
    'HRDAEncoderDecoder', 'HRDASelfTrainingEncoderDecoder',
    'SelfTrainingEncoderDecoder', 'UDAEncoderDecoder'
]
