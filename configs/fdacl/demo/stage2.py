# Stage 2 of the method (FDA + CL): cross-entropy on source images in the
# target's style, entropy on the target, and the pixel-level supervised
# contrastive loss between the target and its source-stylised copy, positives
# being pixels of one pseudo label. Initialised from stage 1 by the pipeline
# (load_from), which also sets the pseudo-label folder.
_base_ = './_base_uda.py'
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
    auxiliary_head=dict(
        type='ProjectionHead',
        in_channels={{_base_.feat_channels}},
        channels={{_base_.feat_channels}},
        in_index=0,
        embed_dim=64,
        num_classes=19,
        norm_cfg={{_base_.norm_cfg}}),
    lambda_ent=0.005,
    lambda_cl=0.1,
    contrast_loss=dict(type='PixelContrastLoss', max_samples=1024,
                       max_views=64))
