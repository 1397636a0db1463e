# Stage 2 of the method (FDA + CL), as configs/fdacl/deeplabv2_gta2cs_stage2.py:
# cross-entropy on source images in the target's style (beta 0.01), entropy
# on the target, and the pixel-level supervised contrastive loss between the
# target and its source-stylised copy (L2-normalised logits as embeddings),
# positives being pixels of one pseudo label. tools/run_pipeline.py
# initialises it from stage 1 (load_from) and sets the pseudo-label folder.
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
    lambda_ent=0.005,
    lambda_cl=0.1,
    contrast_loss=dict(
        type='PixelContrastLoss',
        temperature=0.07,
        sampling='uniform',
        max_samples=2000),
    embedding='logits')
