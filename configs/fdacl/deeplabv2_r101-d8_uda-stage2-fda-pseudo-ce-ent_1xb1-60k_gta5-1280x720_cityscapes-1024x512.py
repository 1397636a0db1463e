# DeepLab ablation row 'CE': stage 2 with cross-entropy on the target pseudo
# labels (FDA's self-training) instead of the contrastive term (45.42 mIoU).
_base_ = './deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(lambda_cl=0.0, lambda_pseudo_ce=1.0)
