# Ablation 'lambda_ent = 0': stage 2 without the target entropy term (FDA CE
# + contrastive loss on the pseudo labels). Unlike
# configs/fdacl/deeplabv2_gta2cs_stage2-no-ent.py (the DeepLab ablation row
# 'lambda_ent = 0', which turns the contrastive term off as well), the
# contrastive term stays on.
_base_ = './stage2.py'
model = dict(lambda_ent=0.0)
