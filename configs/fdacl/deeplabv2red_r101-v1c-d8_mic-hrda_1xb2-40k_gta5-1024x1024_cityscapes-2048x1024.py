# MIC (Hoyer et al., CVPR 2023) on HRDA with DeepLabV2, as lhoyer/MIC
# seg/experiments.py ('hrda1-512-0.1_dlv2red' on 'r101v1c', mask mode
# 'separatetrgaug', 64x64 blocks for the 1024x1024 crops, ratio 0.7, weight 1,
# the same teacher alpha and threshold as the self-training): the DeepLabV2
# HRDA config plus configs/_base_/uda/mic.py. Published: 64.2 mIoU (the
# DeepLabV2 row of MIC on HRDA as later work cites MIC's table; not checked
# against the paper here); not yet reproduced here (no GPU run so far).
_base_ = [
    './deeplabv2red_r101-v1c-d8_hrda_1xb2-40k_gta5-1024x1024_cityscapes-2048x1024.py',
    '../_base_/uda/mic.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(**_base_.mic_masking)
