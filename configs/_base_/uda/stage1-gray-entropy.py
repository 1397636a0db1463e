# Stage 1 of the method (zgerem/UDA training_psuedolabel_backbone.ipynb) on
# GTA5 -> Cityscapes: grayscale GTA5 and grayscale Cityscapes (color is the
# most domain-specific cue), cross-entropy on the source + the entropy of the
# target from the first iteration; test images are grayscale too
# (method-stage1-gray-entropy.py). Its predictions on source-stylized target
# images become the pseudo labels of stage 2
# (tools/generate_pseudo_labels.py).
_base_ = ['./gta5-cityscapes_uda.py', './method-stage1-gray-entropy.py']
uda_model = dict(data_preprocessor=dict(size={{_base_.source_crop_size}}))
