# Single-beta FDA (Yang & Soatto, CVPR 2020), DeepLabV2 (ResNet-101):
# cross-entropy on GTA5 images given the Cityscapes amplitude spectrum
# (beta = 0.01) + entropy on Cityscapes (lambda_ent = 0.005, eta = 2.0,
# switched on after 50k iterations), as FDA's train.py: SGD 2.5e-4 (head x10),
# poly 0.9 over 150k iterations stopped at 100k, batch 1.
# Reproduces: REFERENCE "FDA" row (ResNet-101, 44.6 / 45.0 with entropy); the
# three betas 0.01/0.05/0.09 are the models that FDA-MBT ensembles.
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
    pretrained='checkpoints/resnet101_v1c.pth',
    data_preprocessor=dict(
        type='UDADataPreProcessor',
        size={{_base_.source_crop_size}},
        fda=dict(beta=0.01, source_to_target=True)),
    source_ce=True,
    lambda_ent=0.005,
    entropy_loss=dict(type='EntropyLoss', charbonnier_eta=2.0),
    warmup_iters=50000)
train_cfg = dict(max_iters=100000)
