# FDA with one beta (Yang & Soatto, CVPR 2020), DeepLabV2 (ResNet-101), as
# FDA's README trains it (train.py --LB=0.01 --entW=0.005 --ita=2.0
# --switch2entropy=0): cross-entropy on GTA5 in Cityscapes style + 0.005 x
# the Charbonnier entropy (eta 2) of Cityscapes at the decoder's resolution,
# from the first iteration; poly decay over 150k iterations, stopped at 100k.
# Reproduces: REFERENCE "FDA" single-beta rows (44.6 mIoU for beta 0.09).
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
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    data_preprocessor=dict(
        type='UDADataPreProcessor',
        size={{_base_.source_crop_size}},
        fda=dict(beta=0.01, source_to_target=True)),
    source_ce=True,
    lambda_ent=0.005,
    entropy_loss=dict(type='EntropyLoss', charbonnier_eta=2.0),
    entropy_resolution='native',
    warmup_iters=0)
train_cfg = dict(max_iters=100000)
