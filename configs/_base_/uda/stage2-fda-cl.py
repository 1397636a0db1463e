# Stage 2 of the method (zgerem/UDA training_contrastive.ipynb) on GTA5 ->
# Cityscapes: method-stage2-fda-cl.py (cross-entropy on GTA5 in Cityscapes
# style, FDA beta 0.09, + entropy on Cityscapes + the cross-view pixel
# contrastive loss with the stage-1 pseudo labels, made by PseudoLabelHook
# from `stage1_checkpoint`) on the GTA5 / Cityscapes data whose target
# samples carry the pseudo labels.
_base_ = [
    './gta5-cityscapes_uda-pseudo-labels.py', './method-stage2-fda-cl.py'
]
uda_model = dict(data_preprocessor=dict(size={{_base_.source_crop_size}}))
