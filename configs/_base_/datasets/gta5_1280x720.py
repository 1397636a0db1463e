# GTA5 (source domain): 24,966 1914x1052 frames, resized to 1280x720 and
# randomly cropped to 1024x512 (w x h), as in FDA (Yang & Soatto, CVPR 2020;
# YanchaoYang/FDA data/gta5_dataset.py: PIL bicubic resize, no flip).
# Labels: labels/*_labelTrainIds.png written by
#   python tools/dataset_converters/gta5.py data/gta5 --nproc 8
source_dataset_type = 'GTA5Dataset'
source_data_root = 'data/gta5'
source_crop_size = (512, 1024)  # (h, w), MMSeg's order
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    # scale is (w, h); exactly 1280x720, the published size (the frames are
    # 1.82:1, so keep_ratio would give 1280x703 instead).
    dict(
        type='Resize',
        scale=(1280, 720),
        keep_ratio=False,
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomCrop', crop_size=source_crop_size),
    # No RandomFlip: the reference does not flip (docs/fidelity.md).
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    # Page-locked batches: faster host->GPU copies (ignored on a CPU run).
    pin_memory=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(
        type=source_dataset_type,
        data_root=source_data_root,
        data_prefix=dict(img_path='images', seg_map_path='labels'),
        pipeline=source_train_pipeline))
