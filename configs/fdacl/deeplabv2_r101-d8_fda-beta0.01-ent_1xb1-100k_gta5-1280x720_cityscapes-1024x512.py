# FDA with one beta (Yang & Soatto, CVPR 2020), DeepLabV2 (ResNet-101), as
# FDA's README trains it: the entropy of the decoder's stride-8 logits (FDA's
# model/deeplab.py); poly decay over 150k iterations, stopped at 100k.
# Reproduces: the method's presentation, "FDA" single-beta rows (44.6 mIoU for beta 0.09).
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/uda/fda-entropy.py',
    '../_base_/schedules/schedule_sgd-poly_150k-stop-100k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    _base_.uda_model,
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    entropy_resolution='native')
