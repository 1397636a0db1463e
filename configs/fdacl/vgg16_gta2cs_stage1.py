# Short name: stage 1 (grayscale CE + entropy), VGG16 FCN-8s.
_base_ = './fcn8s_vgg16_uda-stage1-gray-ent_1xb1-100k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
