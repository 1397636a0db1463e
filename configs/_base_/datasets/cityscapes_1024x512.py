# Cityscapes (target domain): 2048x1024 frames resized to 1024x512 (w x h) for
# training and to 1344x576 for inference (PIL bicubic, as FDA's
# data/__init__.py `cs_size_test` and the method's evaluation notebook);
# predictions are resized back and scored against the full-resolution val
# labels (LoadAnnotations comes after Resize).
# Labels: gtFine/**/*_gtFine_labelTrainIds.png written by MMSeg's converter,
# tools/dataset_converters/cityscapes.py of the mmsegmentation repository,
# which the installed package ships under mmseg/.mim/ (needs
# `pip install cityscapesscripts`; docs/data.md has the command):
#   python "$(python -c 'import mmseg, os; print(os.path.dirname(mmseg.__file__))')/.mim/tools/dataset_converters/cityscapes.py" data/cityscapes --nproc 8
target_dataset_type = 'CityscapesDataset'
target_data_root = 'data/cityscapes'
target_crop_size = (512, 1024)  # (h, w), MMSeg's order
# Unlabeled target images for adaptation: image only, no annotations, no
# crop or flip (FDA trains on the whole 1024x512 frame). Stage 2 inserts
# dict(type='LoadPseudoLabel') right after LoadImageFromFile: pseudo labels
# are stored at the original size and are resized with the image.
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Resize',
        scale=(1024, 512),
        keep_ratio=False,
        interpolation='bicubic',
        backend='pillow'),
    dict(type='PackSegInputs')
]
# Pseudo labels are predicted at the training size, as FDA's getSudoLabel and
# the method's notebook (tools/generate_pseudo_labels.py and PseudoLabelHook
# read this before test_pipeline); the label is resized to the image file.
pseudo_label_pipeline = target_train_pipeline
# (w, h) of the evaluation input, FDA's protocol (docs/fidelity.md).
test_scale = (1344, 576)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='Resize',
        scale=test_scale,
        keep_ratio=False,
        interpolation='bicubic',
        backend='pillow'),
    # Loaded after Resize: the metric compares with full-resolution labels.
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
# `tools/test.py --tta`: multi-scale (around 1024x512) and flip.
tta_img_ratios = [0.375, 0.5, 0.625]
tta_pipeline = [
    dict(type='LoadImageFromFile', backend_args=None),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in tta_img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ], [dict(type='LoadAnnotations')], [dict(type='PackSegInputs')]
        ])
]
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=target_dataset_type,
        data_root=target_data_root,
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
# IoUMetric logs the per-class IoU/Acc table, then aAcc, mIoU and mAcc.
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
