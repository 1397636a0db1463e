# Short name: stage 2 from the stage-1 checkpoint, beta 0.01.
_base_ = './deeplabv2_r101-d8_uda-stage2-from-stage1-fda-beta0.01-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
