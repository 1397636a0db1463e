# Single-beta FDA (beta 0.01) + entropy with VGG16 FCN-8s, the VGG16 model of
# FDA; poly decay over 150k iterations, stopped at 100k, as FDA's README run.
_base_ = [
    '../_base_/models/vgg16_fcn8s.py',
    '../_base_/uda/fda-entropy.py',
    '../_base_/schedules/schedule_sgd-poly_150k-stop-100k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
# ImageNet VGG16 weights from this local file (never downloaded).
model = dict(_base_.uda_model, pretrained='checkpoints/vgg16-397923af.pth')
