# Dark Zurich (target domain; Sakaridis et al., ICCV 2019): 1920x1080 frames;
# adaptation trains on the 2,416 night frames of rgb_anon/train/night
# (DarkZurichConditionDataset, read in place; `conditions=[...]` adds day or
# twilight), validates on the 50 labeled frames of val/night and is scored on
# the 151 test frames by the Dark Zurich server (private labels). Sizes as
# acdc_1024x576.py: resized to 1024x576 (PIL bicubic), training crops of
# 1024x512. tools/test.py writes the server's three folders (labelTrainIds,
# labelTrainIds_invalid, confidence) to test_evaluator.output_dir (--out DIR).
target_dataset_type = 'DarkZurichConditionDataset'
target_data_root = 'data/dark_zurich'
target_crop_size = (512, 1024)  # (h, w), MMSeg's order
test_scale = (1024, 576)  # (w, h)
target_resize = dict(
    type='Resize',
    scale=test_scale,
    keep_ratio=False,
    interpolation='bicubic',
    backend='pillow')
# Stage 2 inserts dict(type='LoadPseudoLabel') right after LoadImageFromFile.
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    target_resize,
    dict(type='RandomCrop', crop_size=target_crop_size),
    dict(type='PackSegInputs')
]
pseudo_label_pipeline = [
    dict(type='LoadImageFromFile'), target_resize,
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'), target_resize,
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
server_test_pipeline = [
    dict(type='LoadImageFromFile'), target_resize,
    dict(type='PackSegInputs')
]
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=target_dataset_type,
        data_root=target_data_root,
        split='val',
        pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=target_dataset_type,
        data_root=target_data_root,
        split='test',
        pipeline=server_test_pipeline))
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = dict(
    type='BenchmarkSubmissionMetric',
    server='dark_zurich',
    output_dir='work_dirs/dark_zurich_test_predictions',
    format_only=True)
