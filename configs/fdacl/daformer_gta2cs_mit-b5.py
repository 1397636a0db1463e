_base_ = './daformer_mit-b5_1xb2-40k_gta5-512x512_cityscapes-512x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
