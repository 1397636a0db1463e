# As synthia-cityscapes_uda.py, with the target samples carrying pseudo
# labels (LoadPseudoLabel right after the image; see
# gta5-cityscapes_uda-pseudo-labels.py).
_base_ = ['./synthia-cityscapes_uda.py']
target_train_pipeline_pseudo_labels = [
    _base_.target_train_pipeline[0],
    dict(type='LoadPseudoLabel'),
    *_base_.target_train_pipeline[1:],
]
train_dataloader = dict(
    dataset=dict(target=dict(pipeline=target_train_pipeline_pseudo_labels)))
