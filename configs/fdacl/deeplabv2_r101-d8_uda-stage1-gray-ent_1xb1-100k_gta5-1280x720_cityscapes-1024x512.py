# Stage 1 of the method, DeepLabV2 (ResNet-101): cross-entropy on grayscale
# GTA5 + entropy minimisation (lambda_ent = 0.005, Charbonnier eta = 2.0, FDA
# Eq. 5) on grayscale Cityscapes train images; no image translation (FDA off).
# Validation and test images are converted to grayscale too, as in training.
# Recipe of the FDA reference code: SGD 2.5e-4 (head x10), momentum 0.9,
# wd 5e-4, poly 0.9 over 150k iterations stopped at 100k, batch 1, entropy
# switched on after 50k iterations (`switch2entropy`).
# Reproduces: REFERENCE Table 1 "Trg in Trg" (37.63 mIoU); its checkpoint
# feeds tools/generate_pseudo_labels.py ("Trg in Src", "Pseudo Labels").
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/uda/gta5-cityscapes_uda.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-poly_150k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    type='UDAEncoderDecoder',
    # ImageNet ResNet-101 V1c weights from this local file (never downloaded).
    pretrained='checkpoints/resnet101_v1c.pth',
    data_preprocessor=dict(
        type='UDADataPreProcessor',
        size={{_base_.source_crop_size}},
        grayscale=dict(source=True, target=True, test=True)),
    source_ce=True,
    lambda_ent=0.005,
    entropy_loss=dict(type='EntropyLoss', charbonnier_eta=2.0),
    warmup_iters=50000)
train_cfg = dict(max_iters=100000)
