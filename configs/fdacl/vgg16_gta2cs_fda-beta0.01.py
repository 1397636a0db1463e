# Short name: single-beta FDA (beta 0.01) + entropy, VGG16 FCN-8s.
_base_ = './fcn8s_vgg16_fda-beta0.01-ent_1xb1-100k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
