# Short name: mic, DeepLabV2 (online self-training).
_base_ = './deeplabv2_r101-d8_mic_1xb2-40k_gta5-512x512_cityscapes-512x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
