# Stage 1 of the method with VGG16 FCN-8s in this project's first recipe:
# unweighted cross-entropy, poly decay over 150k iterations stopped at 100k
# (DeepLabV2 follows the notebook instead: class weights, 100k).
_base_ = [
    '../_base_/models/vgg16_fcn8s.py',
    '../_base_/uda/stage1-gray-entropy.py',
    '../_base_/schedules/schedule_sgd-poly_150k-stop-100k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
# ImageNet VGG16 weights from this local file (never downloaded).
model = dict(_base_.uda_model, pretrained='checkpoints/vgg16-397923af.pth')
