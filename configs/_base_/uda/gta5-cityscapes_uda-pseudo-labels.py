# As gta5-cityscapes_uda.py, with the target samples carrying pseudo labels
# (uint8 PNGs of train ids at the original image size, 255 = ignore) from the
# folder written by tools/generate_pseudo_labels.py. LoadPseudoLabel comes
# right after the image so the resize moves both together. Set the folder in
# the leaf config (`pseudo_label_dir`) or on the command line:
#   --cfg-options train_dataloader.dataset.pseudo_label_dir=DIR
_base_ = ['./gta5-cityscapes_uda.py']
target_train_pipeline_pseudo_labels = [
    _base_.target_train_pipeline[0],
    dict(type='LoadPseudoLabel'),
    *_base_.target_train_pipeline[1:],
]
train_dataloader = dict(
    dataset=dict(target=dict(pipeline=target_train_pipeline_pseudo_labels)))
