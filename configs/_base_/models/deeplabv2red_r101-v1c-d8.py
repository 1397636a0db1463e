# DeepLabV2 as DAFormer, HRDA and MIC train it (lhoyer/DAFormer
# configs/_base_/models/deeplabv2_r50-d8.py + deeplabv2red_r50-d8.py, depth
# 101 and open-mmlab's resnet101_v1c ImageNet weights from its
# experiments.py), which is not the caffe-style trunk of deeplabv2_r101-d8.py:
# MMSeg's ResNetV1c-101 (3x3 deep stem), dilations 2 and 4 in the last two
# stages (contract_dilation), BatchNorm trained (requires_grad, train-mode
# statistics), RGB input with the ImageNet mean/std; DLV2Head with the
# dilations 6 and 12 only ('deeplabv2red': AdaptSegNet's classifier returns
# inside its loop over the four branches, and DAFormer keeps the two that
# act); MMSeg's cross-entropy (mean over all pixels, as mmseg 0.16's).
# ImageNet weights: open-mmlab's resnet101_v1c (mmcv's
# open-mmlab://resnet101_v1c; nothing is downloaded at run time) saved as
#   checkpoints/resnet101_v1c.pth
# (docs/daformer.md).
_base_ = ['../default_runtime.py']
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    bgr_to_rgb=True,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained='checkpoints/resnet101_v1c.pth',
    backbone=dict(
        type='ResNetV1c',
        depth=101,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='DLV2Head',
        in_channels=2048,
        in_index=3,
        dilations='deeplabv2red',
        num_classes=19,
        align_corners=False,
        init_cfg=dict(
            type='Normal', std=0.01, override=dict(name='aspp_modules')),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
