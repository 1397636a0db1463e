"""Decode heads registered into MMSeg's MODELS registry."""
from .daformer_head import DAFormerHead
from .dlv2_head import DLV2Head
from .projection_head import ProjectionHead, logits_as_embeddings
from .enet_head import ENetHead
from .fcn8s_head import FCN8sHead
from .hrda_head import HRDAHead

__all__ = ['DAFormerHead', 'DLV2Head', 'ProjectionHead', 'logits_as_embeddings', 'ENetHead',
           'FCN8sHead', 'HRDAHead']
