# MIC (Hoyer et al., CVPR 2023) on HRDA with DAFormer's network for SYNTHIA ->
# Cityscapes, as lhoyer/MIC seg/experiments.py id 80 (synthiaHR,
# separatetrgaug): the HRDA leaf plus masked image consistency on the
# colour-augmented target (64x64 blocks, 70% masked, weight 1;
# configs/_base_/uda/mic.py).
# Published: MIC's paper, Table 2 (MIC's README states only the GTA5 figure;
# not copied here); not yet reproduced here (no GPU run so far).
_base_ = [
    './daformer_mit-b5_hrda_1xb2-40k_synthia-1024x1024_cityscapes-2048x1024.py',
    '../_base_/uda/mic.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(**_base_.mic_masking)
