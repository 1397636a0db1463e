# Stage 2 of the method, DeepLabV2 (ResNet-101), for Cityscapes -> Dark Zurich: from the
# ImageNet initialization, FDA (beta 0.09) cross-entropy, entropy and the
# cross-view pixel contrast with the stage-1 pseudo labels (made before
# training by PseudoLabelHook from `stage1_checkpoint`); poly decay over 60k
# iterations (the GTA5 leaf's recipe on this benchmark's data).
# Validated on Dark Zurich val; tools/test.py CONFIG CKPT --out DIR writes
# the test split in the Dark Zurich server's format.
# Not yet reproduced with this project (no GPU run so far; see docs/data.md).
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/uda/cityscapes-dark-zurich_uda-pseudo-labels.py',
    '../_base_/uda/method-stage2-fda-cl.py',
    '../_base_/uda/method_class_weights.py',
    '../_base_/schedules/schedule_sgd-poly_60k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
# The final checkpoint of the stage-1 leaf (tools/train.py).
stage1_checkpoint = 'work_dirs/deeplabv2_r101-d8_uda-stage1-gray-ent_1xb1-100k_cityscapes-1024x512_dark-zurich-1024x576/iter_100000.pth'
model = dict(
    _base_.uda_model,
    data_preprocessor=dict(
        _base_.uda_model.data_preprocessor, size=_base_.source_crop_size),
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    decode_head=dict(
        loss_decode=dict(class_weight={{_base_.method_class_weight}})),
    entropy_resolution='native',
    embedding_resolution='input')
