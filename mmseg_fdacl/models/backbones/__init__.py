"""Backbones registered into MMSeg's MODELS registry."""
from .deeplabv2_resnet import DeepLabV2ResNet
from .enet import ENet
from .vgg import VGG16

__all__ = ['DeepLabV2ResNet', 'ENet', 'VGG16']
