# The embedded demo: a small DeepLabV2 (ResNetV1c-18 trunk, 8 base channels,
# output stride 8) trained from scratch on the CPU, on the generated two-domain
# street scenes (tools/make_synthetic_uda.py, 128x256 frames): a game-like
# source in the GTA5 layout, a camera-like target in the Cityscapes layout.
# Leaf configs: source-only, fda (single beta), stage1, stage2, oracle.
_base_ = ['../../_base_/default_runtime.py']
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'

data_root = 'data/synthetic'
source_data_root = data_root + '/gta5'
target_data_root = data_root + '/cityscapes'
crop_size = (128, 256)  # (h, w): the generated frames, used whole
batch_size = 4
max_iters = 400
base_channels = 8
feat_channels = base_channels * 8  # ResNet-18 stage-4 width

norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    backbone=dict(
        type='ResNetV1c',
        depth=18,
        base_channels=base_channels,
        stem_channels=base_channels,
        num_stages=4,
        out_indices=(3, ),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        contract_dilation=True),
    decode_head=dict(
        type='DLV2Head',
        in_channels=feat_channels,
        in_index=0,
        dilations=(1, 3, 6, 9),
        num_classes=19,
        loss_decode=dict(type='ValidPixelCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))

source_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
target_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs')
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs')
]
source_dataset = dict(
    type='GTA5Dataset',
    data_root=source_data_root,
    data_prefix=dict(img_path='images', seg_map_path='labels'),
    pipeline=source_train_pipeline)
target_train_dataset = dict(
    type='CityscapesDataset',
    data_root=target_data_root,
    data_prefix=dict(
        img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
    pipeline=target_train_pipeline)

train_dataloader = dict(
    batch_size=batch_size,
    num_workers=0,
    persistent_workers=False,
    # Resumable: a resumed run skips the consumed batches without loading
    # them (see train_cfg and the rng_state hook).
    sampler=dict(type='ResumableInfiniteSampler', shuffle=True),
    dataset=source_dataset)
test_dataloader = dict(
    batch_size=1,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='CityscapesDataset',
        data_root=target_data_root,
        data_prefix=dict(
            img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=test_pipeline))
test_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])

# From scratch, a few hundred iterations: AdamW with poly decay converges far
# faster than the SGD 2.5e-4 recipe meant for ImageNet-initialised ResNets.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=2e-3, betas=(0.9, 0.999),
                   weight_decay=1e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, begin=0, end=30, by_epoch=False),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=30,
        end=max_iters,
        by_epoch=False)
]
# No validation during training: the pipeline evaluates every model once.
# Fault tolerance as in the full configs: a run killed and resumed with
# --resume ends bit-identical to an uninterrupted one (CPU, num_workers=0):
# resumable loop and sampler, RNG states in checkpoints, atomic saves.
train_cfg = dict(type='ResumableIterBasedTrainLoop', max_iters=max_iters)
val_cfg = None
val_dataloader = None
val_evaluator = None
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=False),
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=max_iters,
        max_keep_ckpts=1,
        save_best=None),
    rng_state=dict(type='RNGStateHook'),
    visualization=dict(type='SegVisualizationHook', draw=False))
env_cfg = dict(cudnn_benchmark=False, dist_cfg=dict(backend='gloo'))
