# Cityscapes -> Dark Zurich at high resolution, as HRDA and MIC(HRDA) train and
# test (lhoyer/HRDA configs/_base_/datasets/
# uda_cityscapesHR_to_darkzurichHR_1024x1024.py): Cityscapes resized to
# 2048x1024 and Dark Zurich to 1920x1080 (aspect ratio kept), random 1024x1024
# crops (source crops holding at most 75% of one class), horizontal flips,
# batches of 2 pairs; no pseudo-label margins (lhoyer/MIC seg/experiments.py,
# id 80: "plcrop is only necessary for Cityscapes as target domains").
# Validation on the val split at 1920x1080 (the model's sliding window), the
# test split in the server's format. Data roots on the command line as
# ../uda/cityscapes-dark-zurich_uda.py.
_base_ = ['../uda/cityscapes-dark-zurich_uda.py']
online_crop_size = (1024, 1024)
source_online_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(2048, 1024), keep_ratio=True),
    dict(type='RandomCrop', crop_size=online_crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
target_online_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),
    dict(type='RandomCrop', crop_size=online_crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
online_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
online_server_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(1920, 1080), keep_ratio=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        source=dict(pipeline=source_online_pipeline),
        target=dict(pipeline=target_online_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=online_test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=online_server_test_pipeline))
