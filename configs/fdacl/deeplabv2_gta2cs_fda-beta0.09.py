# Short name: single-beta FDA (beta 0.09) + entropy, DeepLabV2.
_base_ = './deeplabv2_r101-d8_fda-beta0.09-ent_1xb1-100k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
