# Stage 2 of the method (zgerem/UDA training_contrastive.ipynb) on GTA5 ->
# Cityscapes: cross-entropy on GTA5 in Cityscapes style (FDA, beta 0.09) +
# entropy on Cityscapes + 1.0 x the cross-view pixel contrastive loss between
# each Cityscapes image and its GTA5-styled copy, positives from the stage-1
# pseudo labels that PseudoLabelHook makes before training
# (method-stage2-fda-cl.py has the details).
_base_ = [
    './gta5-cityscapes_uda-pseudo-labels.py', './method-stage2-fda-cl.py'
]
uda_model = dict(data_preprocessor=dict(size={{_base_.source_crop_size}}))
