# DeepLab ablation row 'no CE, no CL': stage 2 with FDA CE + entropy only,
# from the stage-1 checkpoint (45.01 mIoU). Pseudo labels are still loaded
# but unused.
_base_ = './deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    lambda_cl=0.0,
    data_preprocessor=dict(fda=dict(target_to_source=False)))
