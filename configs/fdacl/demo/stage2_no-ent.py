# Ablation 'lambda_ent = 0': stage 2 without the target entropy term (FDA CE
# + contrastive loss on the pseudo labels). As
# configs/fdacl/deeplabv2_gta2cs_stage2-no-ent.py.
_base_ = './stage2.py'
model = dict(lambda_ent=0.0)
