# ACDC (target domain; Sakaridis et al., ICCV 2021): 1920x1080 frames of four
# adverse conditions (fog, night, rain, snow; 1,600 train, 406 val, 2,000
# test), read in place from rgb_anon/<condition>/<split>/<sequence>/ and
# gt/<condition>/<split>/<sequence>/ (ACDCDataset; `conditions=[...]` selects
# some). Training: resized to 1024x576 (PIL bicubic) and randomly cropped to
# 1024x512, the size of the source frames. Validation: ACDC val at 1024x576,
# scored at full resolution. Test: the test split has private labels, so
# tools/test.py writes the ACDC server's files (train-id PNGs named after the
# images) to test_evaluator.output_dir (--out DIR); zip them for upload.
target_dataset_type = 'ACDCDataset'
target_data_root = 'data/acdc'
target_crop_size = (512, 1024)  # (h, w), MMSeg's order
test_scale = (1024, 576)  # (w, h)
target_resize = dict(
    type='Resize',
    scale=test_scale,
    keep_ratio=False,
    interpolation='bicubic',
    backend='pillow')
# Stage 2 inserts dict(type='LoadPseudoLabel') right after LoadImageFromFile;
# the crop then moves image and pseudo label together.
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    target_resize,
    dict(type='RandomCrop', crop_size=target_crop_size),
    dict(type='PackSegInputs')
]
# Pseudo labels are predicted on the whole resized frame.
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
    server='acdc',
    output_dir='work_dirs/acdc_test_predictions',
    format_only=True)
