# Stage 1 of the method, DeepLabV2 (ResNet-101), as the method's notebook
# trains it: the class-weighted cross-entropy, the entropy at the decoder's
# resolution; poly decay over 100k iterations, as the deck's "100k
# iterations" and the notebook's num_steps (its loop bound says 30000:
# docs/fidelity.md).
# Reproduces: the method's presentation, stage 1 table: "Trg in Trg" / "Trg in Src" rows.
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/uda/stage1-gray-entropy.py',
    '../_base_/uda/method_class_weights.py',
    '../_base_/schedules/schedule_sgd-poly_100k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    _base_.uda_model,
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    decode_head=dict(
        loss_decode=dict(class_weight={{_base_.method_class_weight}})),
    entropy_resolution='native')
