# Cityscapes as the labeled source domain (for Cityscapes -> ACDC and
# Cityscapes -> Dark Zurich): the 2,975 train frames with their fine labels
# (gtFine/train/*_gtFine_labelTrainIds.png, MMSeg's converter as in
# cityscapes_1024x512.py), resized to 1024x512 (PIL bicubic; the whole frame
# is the 512x1024 crop), no flip, as the Cityscapes frames of the method's
# GTA5 -> Cityscapes recipes.
# Rare class sampling reads <data_root>/class_stats.json, written by
#   python tools/dataset_converters/class_stats.py CONFIG --nproc 8
source_dataset_type = 'CityscapesDataset'
source_data_root = 'data/cityscapes'
source_crop_size = (512, 1024)  # (h, w), MMSeg's order
source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(
        type='Resize',
        scale=(1024, 512),
        keep_ratio=False,
        interpolation='bicubic',
        backend='pillow'),
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
        data_prefix=dict(
            img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=source_train_pipeline))
