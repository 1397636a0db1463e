# Stage 2 of the method (zgerem/UDA training_contrastive.ipynb):
# cross-entropy on GTA5 in Cityscapes style (FDA, beta 0.09) + entropy on
# Cityscapes + 1.0 x the cross-view pixel contrastive loss between each
# Cityscapes image (anchors) and its GTA5-styled copy (FDA target->source),
# positives from the stage-1 pseudo labels: temperature 0.07, 2000 random
# pixel positions, the full-resolution class logits (L2-normalised) as
# embeddings. Entropy and contrast switch on at iteration 50k.
# The leaves name the stage-1 pseudo labels (`pseudo_label_dir`), or:
#   --cfg-options train_dataloader.dataset.pseudo_label_dir=PSEUDO_LABEL_DIR
_base_ = ['./gta5-cityscapes_uda-pseudo-labels.py', './source-ce-entropy.py']
uda_model = dict(
    data_preprocessor=dict(
        size={{_base_.source_crop_size}},
        fda=dict(beta=0.09, source_to_target=True, target_to_source=True)),
    lambda_cl=1.0,
    contrast_loss=dict(
        type='PixelContrastLoss',
        form='cross_view',
        temperature=0.07,
        sampling='uniform',
        max_samples=2000),
    embedding='logits',
    warmup_iters=50000)
