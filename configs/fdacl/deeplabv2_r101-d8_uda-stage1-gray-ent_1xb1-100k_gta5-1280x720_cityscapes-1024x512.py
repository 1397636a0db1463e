# Stage 1 of the method, DeepLabV2 (ResNet-101), as the method's notebook
# trains it (zgerem/UDA training_psuedolabel_backbone.ipynb): grayscale GTA5
# and grayscale Cityscapes, class-weighted cross-entropy on the source +
# 0.005 x the Charbonnier entropy (eta 2) of the target from the first
# iteration; poly decay over 100k iterations, as the deck's "100k iterations"
# and the notebook's num_steps (its loop bound says 30000: docs/fidelity.md).
# Its predictions on source-stylised target images become the pseudo labels
# (tools/generate_pseudo_labels.py).
# Reproduces: REFERENCE Table 1 "Trg in Trg" / "Trg in Src" rows.
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/uda/gta5-cityscapes_uda.py',
    '../_base_/uda/method_class_weights.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-poly_100k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    type='UDAEncoderDecoder',
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    data_preprocessor=dict(
        type='UDADataPreProcessor',
        size={{_base_.source_crop_size}},
        grayscale=dict(source=True, target=True, test=True)),
    decode_head=dict(
        loss_decode=dict(class_weight={{_base_.method_class_weight}})),
    source_ce=True,
    lambda_ent=0.005,
    entropy_loss=dict(type='EntropyLoss', charbonnier_eta=2.0),
    entropy_resolution='native',
    warmup_iters=0)
