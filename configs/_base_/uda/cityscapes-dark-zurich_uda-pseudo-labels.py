# As cityscapes-dark-zurich_uda.py, with the target samples carrying pseudo labels
# (LoadPseudoLabel right after the image, so the resize and the crop move
# both; see gta5-cityscapes_uda-pseudo-labels.py).
_base_ = ['./cityscapes-dark-zurich_uda.py']
target_train_pipeline_pseudo_labels = [
    _base_.target_train_pipeline[0],
    dict(type='LoadPseudoLabel'),
    *_base_.target_train_pipeline[1:],
]
train_dataloader = dict(
    dataset=dict(target=dict(pipeline=target_train_pipeline_pseudo_labels)))
