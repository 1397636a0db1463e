# Ablation 'pseudo-label CE': stage 2 with cross-entropy on the target pseudo
# labels (FDA's self-training) instead of the contrastive term; without the
# contrast, the target's source-style copy is not made (FDA target -> source
# off). As configs/fdacl/deeplabv2_gta2cs_stage2-pseudo-ce.py.
_base_ = './stage2.py'
model = dict(
    data_preprocessor=dict(fda=dict(target_to_source=False)),
    lambda_cl=0.0,
    lambda_pseudo_ce=1.0)
