# FDA, single beta (Yang & Soatto, CVPR 2020): cross-entropy on source images
# in the target's style (beta = 0.01) plus entropy minimization on the target.
_base_ = './_base_uda.py'
model = dict(
    data_preprocessor=dict(fda=dict(beta=0.01, source_to_target=True)),
    lambda_ent=0.005)
