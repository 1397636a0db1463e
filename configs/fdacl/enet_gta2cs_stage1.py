# Stage 1 of the method with ENet (Paszke et al., 2016): cross-entropy on grayscale GTA5 +
# entropy (lambda_ent 0.005, eta 2.0, on after 50k iterations) on grayscale
# Cityscapes; FDA off; test images grayscale too. Same recipe as
# deeplabv2_gta2cs_stage1.py (SGD 2.5e-4, head x10, poly 0.9 over 150k,
# stopped at 100k, batch 1).
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
        grayscale=dict(source=True, target=True, test=True)),
    source_ce=True,
    lambda_ent=0.005,
    entropy_loss=dict(type='EntropyLoss', charbonnier_eta=2.0),
    # The method's stage 1: entropy from the first iteration.
    warmup_iters=0)
train_cfg = dict(max_iters=100000)
