# DeepLab ablation row 'CE': stage 2 with cross-entropy on the target pseudo
# labels (FDA's self-training) instead of the contrastive term (45.42 mIoU).
_base_ = './deeplabv2_gta2cs_stage2.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(lambda_cl=0.0, lambda_pseudo_ce=1.0)
