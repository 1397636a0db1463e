# Ablation 'CL using GT' (an upper bound of the contrastive term): stage 2
# with the target's own labels (gtFine/train, *_labelTrainIds.png, loaded by
# LoadAnnotations) in place of the pseudo labels; no pseudo-label folder.
_base_ = './stage2.py'
train_dataloader = dict(
    dataset=dict(
        target=dict(pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='LoadAnnotations'),
            dict(type='RandomFlip', prob=0.5),
            dict(type='PackSegInputs')
        ]),
        pseudo_label_dir=None))
