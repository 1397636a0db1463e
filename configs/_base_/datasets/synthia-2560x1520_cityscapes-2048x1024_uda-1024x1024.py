# SYNTHIA -> Cityscapes at high resolution, as HRDA and MIC(HRDA) train and
# test (lhoyer/HRDA configs/_base_/datasets/
# uda_synthiaHR_to_cityscapesHR_1024x1024.py): SYNTHIA resized to fit 2560x1520
# and Cityscapes to 2048x1024 (aspect ratio kept), random 1024x1024 crops
# (source crops holding at most 75% of one class), horizontal flips, batches of
# 2 pairs; the target's pseudo-label margins (HRDA's crop_pseudo_margins for a
# Cityscapes target: top 30, bottom 240, left 30, right 30 pixels of the
# resized frame) are cut before the crop and packed with it. Evaluation on
# Cityscapes val at the full 2048x1024 as mIoU, mIoU16 and mIoU13. Data roots
# on the command line as ../uda/synthia-cityscapes_uda.py.
_base_ = ['../uda/synthia-cityscapes_uda.py']
online_crop_size = (1024, 1024)
source_online_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(2560, 1520), keep_ratio=True),
    dict(type='RandomCrop', crop_size=online_crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
target_online_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='PseudoLabelMargins', margins=(30, 240, 30, 30)),
    dict(type='RandomCrop', crop_size=online_crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputsWithMargins')
]
online_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        source=dict(pipeline=source_online_pipeline),
        target=dict(pipeline=target_online_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=online_test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=online_test_pipeline))
