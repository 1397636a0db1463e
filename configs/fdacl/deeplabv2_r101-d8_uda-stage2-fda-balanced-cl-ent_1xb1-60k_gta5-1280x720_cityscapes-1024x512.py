# Stage 2 with class-balanced contrastive sampling: the 2000 pixel positions
# are spread over the pseudo-label classes (at most 200 per class, drawn
# without replacement) instead of drawn uniformly, so rare classes get
# anchors. Not in the method; see docs/fidelity.md.
_base_ = './deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(contrast_loss=dict(sampling='balanced', max_views=200))
