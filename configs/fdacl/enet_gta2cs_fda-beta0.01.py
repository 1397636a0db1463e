# Single-beta FDA (beta 0.01) + entropy (lambda_ent 0.005, eta 2.0, on after
# 50k iterations) with ENet (Paszke et al., 2016); FDA's recipe as
# deeplabv2_gta2cs_fda-beta0.01.py.
_base_ = [
    '../_base_/models/enet.py',
    '../_base_/uda/gta5-cityscapes_uda.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-poly_150k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    type='UDAEncoderDecoder',
    # ENet is trained from scratch here; set a local encoder checkpoint with
    # --cfg-options model.pretrained=checkpoints/enet_encoder.pth
    pretrained=None,
    data_preprocessor=dict(
        type='UDADataPreProcessor',
        size={{_base_.source_crop_size}},
        fda=dict(beta=0.01, source_to_target=True)),
    source_ce=True,
    lambda_ent=0.005,
    entropy_loss=dict(type='EntropyLoss', charbonnier_eta=2.0),
    # FDA README: --switch2entropy=0 (entropy from the first iteration).
    warmup_iters=0)
train_cfg = dict(max_iters=100000)
