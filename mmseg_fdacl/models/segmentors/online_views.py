"""The student's self-training views: DACS' strong augmentation in the
preprocessor's channel order, and the ClassMix image, label and weight.

DACS (Tranheden et al., WACV 2021) and DAFormer (Hoyer et al., CVPR 2022,
``mmseg/models/uda/dacs.py``): the mixed sample pastes the chosen source
classes onto the target image, the source labels (weight 1) onto the pseudo
labels (their quality weight), then jitters and blurs the image.
"""
from typing import Optional, Tuple

import torch
from mmseg.utils import SampleList
from torch import Tensor, nn

from ..utils import ClassMix, mix, strong_transform

__all__ = ['strong_view', 'source_labels', 'class_mix_view']


def strong_view(imgs: Tensor, preprocessor: nn.Module,
                generator: torch.Generator, cfg: Optional[dict]) -> Tensor:
    """:func:`strong_transform` of normalized ``imgs`` (``cfg`` its keyword
    arguments; None: ``imgs`` unchanged), in RGB whatever order the
    preprocessor gives."""
    if cfg is None:
        return imgs
    # Colour jitter works on RGB; inputs are BGR when the preprocessor
    # keeps the loaded channel order (the caffe DeepLabV2 configs).
    bgr = not preprocessor.channel_conversion
    mean, std = preprocessor.mean.view(-1), preprocessor.std.view(-1)
    if bgr:
        imgs, mean, std = imgs.flip(1), mean.flip(0), std.flip(0)
    out = strong_transform(imgs, mean, std, generator, **cfg)
    return out.flip(1) if bgr else out


def source_labels(data_samples: SampleList, target_inputs: Tensor) -> Tensor:
    """``N x H x W`` source labels, checked to match the target size."""
    labels = torch.stack([s.gt_sem_seg.data for s in data_samples
                          ]).squeeze(1).long()
    if labels.shape[1:] != target_inputs.shape[2:]:
        raise ValueError(
            'SelfTrainingEncoderDecoder: ClassMix pastes source pixels '
            'onto target images of the same size, got source labels '
            f'{tuple(labels.shape[1:])} and target images '
            f'{tuple(target_inputs.shape[2:])}; crop both domains to one '
            'size (data_preprocessor.size or the pipelines).')
    return labels


def class_mix_view(class_mix: ClassMix, generator: torch.Generator,
                   inputs: Tensor, data_samples: SampleList,
                   target_inputs: Tensor, labels: Tensor,
                   weight: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """The ClassMix image, label and weight (before augmentation)."""
    src_labels = source_labels(data_samples, target_inputs)
    masks = class_mix.masks(src_labels, generator)
    return (mix(masks, inputs, target_inputs), mix(masks, src_labels, labels),
            mix(masks, torch.ones_like(weight), weight))
