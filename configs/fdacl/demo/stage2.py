# Stage 2 of the method (FDA + CL) with the losses of
# configs/fdacl/deeplabv2_gta2cs_stage2.py: cross-entropy on source images in
# the target's style, entropy on the target (decoder resolution), and the
# method's cross-view pixel contrastive loss (weight 1, 2000 positions) between
# the target and its source-stylized copy (L2-normalized full-resolution
# logits), positives being pixels of one pseudo label. Unlike the real config
# (ImageNet init, beta 0.09, 60k iterations with a 50k warm-up), the demo has
# no ImageNet weights and 400 iterations: tools/run_pipeline.py initializes it
# from stage 1 (load_from), beta is 0.01 (beta 0.09 would swap a 23x23 window
# of a 128x256 frame) and there is no warm-up; it sets the pseudo-label folder.
_base_ = ['./_base_uda.py', '../../_base_/uda/method-contrast.py']
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPseudoLabel'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    dataset=dict(
        target=dict(pipeline=target_train_pipeline),
        # Set by tools/run_pipeline.py to <work_dir>/pseudo_labels.
        pseudo_label_dir=None))
model = dict(
    data_preprocessor=dict(
        fda=dict(beta=0.01, source_to_target=True, target_to_source=True)),
    lambda_ent=0.005,
    **_base_.method_contrast)
