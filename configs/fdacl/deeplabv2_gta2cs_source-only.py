# Short name: source-only DeepLabV2 baseline.
_base_ = './deeplabv2_r101-d8_1xb1-150k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
