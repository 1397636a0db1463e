# DeepLabV2: ResNet-101 with dilations (1, 1, 2, 4), output stride 8, and the
# ASPP classifier with dilations (6, 12, 18, 24) (Chen et al., TPAMI 2017).
# ImageNet weights are read from a local file; nothing is downloaded. Set
# `pretrained` here, or on the command line:
#   --cfg-options model.pretrained=checkpoints/resnet101_v1c.pth
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
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
    pretrained=None,
    backbone=dict(
        # 'ResNetV1c' (deep stem) by default; the classic DeepLabV2 trunk is
        # 'ResNetV1b' style: type='ResNet', style='caffe'.
        type='ResNetV1c',
        depth=101,
        num_stages=4,
        out_indices=(3, ),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=norm_cfg,
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        type='DLV2Head',
        in_channels=2048,
        in_index=0,
        dilations=(6, 12, 18, 24),
        num_classes=19,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
