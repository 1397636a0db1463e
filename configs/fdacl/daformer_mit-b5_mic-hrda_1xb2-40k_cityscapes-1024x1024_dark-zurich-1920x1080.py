# MIC (Hoyer et al., CVPR 2023) on HRDA with DAFormer's network for Cityscapes
# -> Dark Zurich, as lhoyer/MIC seg/experiments.py id 80 (cityscapesHR ->
# darkzurichHR, mask mode separate): the HRDA leaf plus masked image
# consistency on the target image without the colour jitter and blur (mask mode
# separate, mask.augment False) (64x64 blocks, 70% masked, weight 1;
# configs/_base_/uda/mic.py).
# Published: MIC's paper, Table 2 (MIC's README states only the GTA5 figure;
# not copied here); not yet reproduced here (no GPU run so far).
_base_ = [
    './daformer_mit-b5_hrda_1xb2-40k_cityscapes-1024x1024_dark-zurich-1920x1080.py',
    '../_base_/uda/mic.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    _base_.mic_masking, mask=dict(_base_.mic_masking.mask, augment=False))
