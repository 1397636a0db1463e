# DeepLab ablation row 'lambda_ent = 0': stage 2 without the entropy term,
# contrastive term off as well (44.64 mIoU).
_base_ = './deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    lambda_ent=0.0,
    lambda_cl=0.0,
    data_preprocessor=dict(fda=dict(target_to_source=False)))
