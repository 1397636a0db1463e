"""Pure-torch building blocks for online self-training (DACS, DAFormer, MIC).

Every random draw takes an explicit CPU ``torch.Generator`` so a run can
save and restore its state and resume bit-exactly.
"""
from .block_mask import BlockMasking, block_masks, mask_images
from .class_mix import ClassMix, class_mix_masks, mix
from .strong_augment import (StrongTransform, blur_kernel_size, color_jitter,
                             gaussian_blur, strong_transform)

__all__ = [
    'ClassMix', 'class_mix_masks', 'mix', 'StrongTransform',
    'strong_transform', 'color_jitter', 'gaussian_blur', 'blur_kernel_size',
    'BlockMasking', 'block_masks', 'mask_images'
]
