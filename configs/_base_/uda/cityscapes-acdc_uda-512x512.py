# Cityscapes -> ACDC as DAFormer (lhoyer/DAFormer configs/_base_/datasets/
# uda_cityscapes_to_acdc_512x512.py) trains the online self-training
# recipes: Cityscapes resized to 1024x512 and ACDC to 960x540 (aspect
# ratio kept), random 512x512 crops (source crops holding at most 75% of one
# class), horizontal flips, batches of 2 pairs; validation and test at
# 960x540.
_base_ = ['./cityscapes-acdc_uda.py']
online_crop_size = (512, 512)
source_online_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='Resize', scale=(1024, 512), keep_ratio=True),
    dict(type='RandomCrop', crop_size=online_crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
target_online_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(960, 540), keep_ratio=True),
    dict(type='RandomCrop', crop_size=online_crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
online_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(960, 540), keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
online_server_test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(960, 540), keep_ratio=True),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=2,
    dataset=dict(
        source=dict(pipeline=source_online_pipeline),
        target=dict(pipeline=target_online_pipeline)))
val_dataloader = dict(dataset=dict(pipeline=online_test_pipeline))
test_dataloader = dict(dataset=dict(pipeline=online_server_test_pipeline))
