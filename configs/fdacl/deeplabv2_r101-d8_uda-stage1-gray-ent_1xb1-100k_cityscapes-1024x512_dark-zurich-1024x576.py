# Stage 1 of the method, DeepLabV2 (ResNet-101), for Cityscapes -> Dark Zurich: grayscale
# source and target, the class-weighted cross-entropy, the entropy at the
# decoder's resolution; poly decay over 100k iterations (the GTA5 leaf's
# recipe on this benchmark's data). Validated on Dark Zurich val; tools/test.py CONFIG CKPT --out DIR writes
# the test split in the Dark Zurich server's format.
# Not yet reproduced with this project (no GPU run so far; see docs/data.md).
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/uda/cityscapes-dark-zurich_uda.py',
    '../_base_/uda/method-stage1-gray-entropy.py',
    '../_base_/uda/method_class_weights.py',
    '../_base_/schedules/schedule_sgd-poly_100k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    _base_.uda_model,
    data_preprocessor=dict(
        _base_.uda_model.data_preprocessor, size=_base_.source_crop_size),
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    decode_head=dict(
        loss_decode=dict(class_weight={{_base_.method_class_weight}})),
    entropy_resolution='native')
