# SYNTHIA-RAND-CITYSCAPES (source domain): 9,400 1280x760 frames, randomly
# cropped to 1024x512 (w x h), as FDA (Yang & Soatto, CVPR 2020;
# YanchaoYang/FDA data/__init__.py image_sizes['synthia'] and
# data/synthia_dataset.py: PIL bicubic resize to 1280x760, no flip).
# Labels: GT/LABELS/*_labelTrainIds.png (and class_stats.json) written by
#   python tools/dataset_converters/synthia.py data/synthia --nproc 8
# SYNTHIA labels 16 of the 19 Cityscapes classes: models are scored with
# `synthia_evaluator` (mIoU16, mIoU13 beside mIoU), which the benchmark
# fragments and leaves set as their val/test evaluator.
source_dataset_type = 'SynthiaDataset'
source_data_root = 'data/synthia'
source_crop_size = (512, 1024)  # (h, w), MMSeg's order
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='Resize',
        scale=(1280, 760),
        keep_ratio=False,
        interpolation='bicubic',
        backend='pillow'),
    dict(type='RandomCrop', crop_size=source_crop_size),
    dict(type='PackSegInputs')
]
train_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=dict(
        type=source_dataset_type,
        data_root=source_data_root,
        data_prefix=dict(img_path='RGB', seg_map_path='GT/LABELS'),
        pipeline=source_train_pipeline))
synthia_evaluator = dict(
    type='ClassSubsetIoUMetric', iou_metrics=['mIoU'], class_subsets='synthia')
