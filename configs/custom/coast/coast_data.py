# Written by tools/make_custom_config.py (docs/custom_dataset.md); edit freely.

# Data of 'coast': a labelled source folder and an unlabelled target folder
# with their own classes and palette, paired by UDADataset. Label maps are
# single-channel PNGs of train ids 0..4, 255 = ignore; SafeLoadAnnotations
# names any source file with another value. Check every file with
#   python tools/check_dataset.py THIS_CONFIG

num_classes = 5
custom_metainfo = dict(
    classes=('sky', 'sea', 'sand', 'rock', 'boat'),
    palette=[
        [135, 206, 235],  # sky
        [0, 60, 140],  # sea
        [238, 214, 175],  # sand
        [110, 110, 110],  # rock
        [220, 40, 40],  # boat
    ])
crop_size = (48, 64)  # (h, w) of the training crops

source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='SafeLoadAnnotations',
        num_classes=num_classes,
        ignore_index=255),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]

# Unlabelled target images; stage 2 reads its pseudo labels right after the
# image, so crops and flips move both together.
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
target_train_pipeline_pseudo_labels = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadPseudoLabel'),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]

# Pseudo labels are predicted on the whole (resized) image.
pseudo_label_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]

source_dataset = dict(
    type='CustomSegDataset',
    metainfo=custom_metainfo,
    data_root='data/coast/source',
    data_prefix=dict(img_path='images', seg_map_path='labels'),
    img_suffix='.jpg',
    seg_map_suffix='_mask.png',
    ignore_index=255,
    pipeline=source_train_pipeline)
target_dataset = dict(
    type='CustomSegDataset',
    metainfo=custom_metainfo,
    data_root='data/coast/target',
    data_prefix=dict(img_path='train'),
    img_suffix='.jpg',
    ignore_index=255,
    pipeline=target_train_pipeline)

train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(
        type='UDADataset',
        source=source_dataset,
        target=target_dataset,
        pairing='random',
        seed=0,
        pseudo_label_dir=None))

# Validation and test: the labelled target split.
val_dataset = dict(
    type='CustomSegDataset',
    metainfo=custom_metainfo,
    data_root='data/coast/target/val',
    data_prefix=dict(img_path='images', seg_map_path='labels'),
    img_suffix='.jpg',
    seg_map_suffix='_mask.png',
    ignore_index=255,
    pipeline=test_pipeline)
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=val_dataset)
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator

# Terms that use no parameter in an iteration must not stop DDP.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', find_unused_parameters=True)
