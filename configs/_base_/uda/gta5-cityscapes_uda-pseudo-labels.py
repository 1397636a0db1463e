# As gta5-cityscapes_uda.py, with the target samples carrying pseudo labels
# (uint8 PNGs of train ids at the original image size, 255 = ignore).
# LoadPseudoLabel comes right after the image so the resize moves both
# together. The stage-2 fragments add PseudoLabelHook, which makes (or
# reuses) the folder and points the dataset at it; without the hook, set
# --cfg-options train_dataloader.dataset.pseudo_label_dir=DIR (a folder of
# tools/generate_pseudo_labels.py).
_base_ = ['./gta5-cityscapes_uda.py']
target_train_pipeline_pseudo_labels = [
    _base_.target_train_pipeline[0],
    dict(type='LoadPseudoLabel'),
    *_base_.target_train_pipeline[1:],
]
train_dataloader = dict(
    dataset=dict(target=dict(pipeline=target_train_pipeline_pseudo_labels)))
