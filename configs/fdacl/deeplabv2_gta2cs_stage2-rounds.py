# Short name: stage 2 with two self-training rounds.
_base_ = './deeplabv2_r101-d8_uda-stage2-fda-cl-ent-2rounds_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
