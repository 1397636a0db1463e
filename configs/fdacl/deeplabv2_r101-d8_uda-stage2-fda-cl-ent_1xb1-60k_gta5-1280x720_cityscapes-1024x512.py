# Stage 2 of the method, DeepLabV2 (ResNet-101), as the method's notebook
# trains it (zgerem/UDA training_contrastive.ipynb): from the ImageNet
# initialisation, class-weighted cross-entropy on GTA5 in Cityscapes style
# (FDA, beta 0.09) + 0.005 x entropy on Cityscapes + 1.0 x the cross-view
# pixel contrastive loss between each Cityscapes image (anchors) and its
# GTA5-styled copy (FDA target->source), positives from the stage-1 pseudo
# labels: temperature 0.07, 2000 random pixel positions, the full-resolution
# class logits (L2-normalised) as embeddings. Entropy and contrast switch on
# at iteration 50k; poly decay over 60k iterations.
# Inputs (config variables below, or on the command line):
#   --cfg-options train_dataloader.dataset.pseudo_label_dir=PSEUDO_LABEL_DIR
# deeplabv2_gta2cs_stage2-from-stage1.py starts from stage 1 instead.
# Reproduces: REFERENCE main table "Ours" ResNet-101 (46.42 mIoU) and the
# first row of the DeepLab ablation (CL, entropy on).
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/uda/gta5-cityscapes_uda-pseudo-labels.py',
    '../_base_/uda/method_class_weights.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-poly_60k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
stage1_checkpoint = 'work_dirs/deeplabv2_gta2cs_stage1/iter_100000.pth'
pseudo_label_dir = 'work_dirs/deeplabv2_gta2cs_stage1/pseudo_labels'
train_dataloader = dict(dataset=dict(pseudo_label_dir=pseudo_label_dir))
model = dict(
    type='UDAEncoderDecoder',
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    data_preprocessor=dict(
        type='UDADataPreProcessor',
        size={{_base_.source_crop_size}},
        fda=dict(beta=0.09, source_to_target=True, target_to_source=True)),
    decode_head=dict(
        loss_decode=dict(class_weight={{_base_.method_class_weight}})),
    source_ce=True,
    lambda_ent=0.005,
    entropy_loss=dict(type='EntropyLoss', charbonnier_eta=2.0),
    entropy_resolution='native',
    lambda_cl=1.0,
    contrast_loss=dict(
        type='PixelContrastLoss',
        form='cross_view',
        temperature=0.07,
        sampling='uniform',
        max_samples=2000),
    embedding='logits',
    embedding_resolution='input',
    warmup_iters=50000)
