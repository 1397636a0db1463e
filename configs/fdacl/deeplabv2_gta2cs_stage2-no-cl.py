# DeepLab ablation row 'no CE, no CL': stage 2 with FDA CE + entropy only,
# from the stage-1 checkpoint (45.01 mIoU). Pseudo labels are still loaded
# but unused.
_base_ = './deeplabv2_gta2cs_stage2.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    lambda_cl=0.0,
    data_preprocessor=dict(fda=dict(target_to_source=False)))
