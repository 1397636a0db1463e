# MIC (Hoyer et al., CVPR 2023) on DAFormer's recipe with DeepLabV2 for
# Cityscapes -> Dark Zurich: the daformer-recipe leaf plus masked image consistency (32x32
# blocks on 512x512 crops as MIC's experiments.py, 70% masked, weight 1; configs/_base_/uda/mic.py).
# Not yet reproduced with this project (no GPU run so far; see docs/data.md).
_base_ = [
    './deeplabv2_r101-d8_daformer-recipe_1xb2-40k_cityscapes-512x512_dark-zurich-512x512.py',
    '../_base_/uda/mic.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
# As lhoyer/MIC seg/experiments.py id 80 for ACDC and Dark Zurich targets
# (mask mode 'separate'): the target is masked without the colour jitter and
# blur (mask.augment=False).
model = dict(
    _base_.mic_masking,
    mask=dict(_base_.mic_masking.mask, block_size=32, augment=False))
