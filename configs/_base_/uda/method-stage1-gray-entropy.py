# Stage 1 of the method as a block without data (zgerem/UDA
# training_psuedolabel_backbone.ipynb): grayscale source and target images
# (color is the most domain-specific cue), cross-entropy on the source + the
# entropy of the target from the first iteration; test images are grayscale
# too. stage1-gray-entropy.py puts it on GTA5 -> Cityscapes; the configs of
# tools/make_custom_config.py on a user's folders. The leaf sets the
# preprocessor's `size` (the training crop).
_base_ = ['./source-ce-entropy.py']
uda_model = dict(
    data_preprocessor=dict(
        grayscale=dict(source=True, target=True, test=True)),
    warmup_iters=0)
