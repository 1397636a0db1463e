# This project's combination online, on DeepLabV2: DAFormer's self-training
# recipe (the daformer-recipe config: RCS, EMA 0.999, ClassMix, feature
# distance) with the method's FDA (source in target style, beta 0.01; teacher
# pseudo labels on the target in source style), entropy and cross-view pixel
# contrast on the teacher's pseudo labels (configs/_base_/uda/fda-cl-online.py).
# No published number exists for it; not yet run on GTA5 -> Cityscapes with
# this project (see README).
_base_ = [
    './deeplabv2_r101-d8_daformer-recipe_1xb2-40k_gta5-512x512_cityscapes-512x512.py',
    '../_base_/uda/fda-cl-online.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    **_base_.online_fda_cl, data_preprocessor=dict(fda=_base_.online_fda))
