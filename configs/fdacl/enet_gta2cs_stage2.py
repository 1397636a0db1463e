# Stage 2 of the method with ENet (Paszke et al., 2016), from the stage-1 checkpoint: CE on
# Cityscapes-styled GTA5 (FDA beta 0.01) + entropy + pixel contrastive loss
# (temperature 0.07, 2000 random pixels, class scores as embeddings,
# lambda_cl 1.0) between Cityscapes and its GTA5-styled copy, labelled by the
# stage-1 pseudo labels. As deeplabv2_gta2cs_stage2.py otherwise:
#   --cfg-options load_from=STAGE1.pth \
#                 train_dataloader.dataset.pseudo_label_dir=PSEUDO_LABEL_DIR
_base_ = [
    '../_base_/models/enet.py',
    '../_base_/uda/gta5-cityscapes_uda-pseudo-labels.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-poly_150k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
stage1_checkpoint = 'work_dirs/enet_gta2cs_stage1/iter_100000.pth'
pseudo_label_dir = 'work_dirs/enet_gta2cs_stage1/pseudo_labels'
load_from = stage1_checkpoint
train_dataloader = dict(dataset=dict(pseudo_label_dir=pseudo_label_dir))
model = dict(
    type='UDAEncoderDecoder',
    data_preprocessor=dict(
        type='UDADataPreProcessor',
        size={{_base_.source_crop_size}},
        fda=dict(beta=0.01, source_to_target=True, target_to_source=True)),
    source_ce=True,
    lambda_ent=0.005,
    entropy_loss=dict(type='EntropyLoss', charbonnier_eta=2.0),
    lambda_cl=1.0,
    contrast_loss=dict(
        type='PixelContrastLoss',
        form='cross_view',
        temperature=0.07,
        sampling='uniform',
        max_samples=2000),
    embedding='logits',
    warmup_iters=50000)
train_cfg = dict(max_iters=100000)
