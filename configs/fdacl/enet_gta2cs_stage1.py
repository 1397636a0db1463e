# Short name: stage 1 (grayscale CE + entropy), ENet.
_base_ = './enet_uda-stage1-gray-ent_1xb1-100k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
