# DeepLab ablation row 'lambda_ent = 0': stage 2 without the entropy term,
# contrastive term off as well (44.64 mIoU).
_base_ = './deeplabv2_gta2cs_stage2.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    lambda_ent=0.0,
    lambda_cl=0.0,
    data_preprocessor=dict(fda=dict(target_to_source=False)))
