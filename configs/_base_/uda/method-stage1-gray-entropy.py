# The stage-1 method without data (zgerem/UDA training_psuedolabel_backbone
# .ipynb): grayscale source and target (color is the most domain-specific
# cue), cross-entropy on the source + the entropy of the target from the
# first iteration; test images are grayscale too. The benchmark fragments
# (stage1-gray-entropy.py for GTA5 -> Cityscapes) add the data and the
# preprocessor's size.
_base_ = ['./source-ce-entropy.py']
uda_model = dict(
    data_preprocessor=dict(
        grayscale=dict(source=True, target=True, test=True)),
    warmup_iters=0)
