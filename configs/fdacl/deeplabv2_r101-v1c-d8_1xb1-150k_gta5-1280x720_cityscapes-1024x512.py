# Source-only DeepLabV2 on MMSeg's ResNetV1c-101 (open-mmlab's ImageNet
# weights, e.g. converted from mmpretrain's resnet101_v1c) instead of the
# reference caffe-style trunk; everything else as the faithful source-only
# config. Not a published setting: docs/fidelity.md, "trunk".
_base_ = './deeplabv2_r101-d8_1xb1-150k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    pretrained='checkpoints/resnet101_v1c.pth',
    data_preprocessor=dict(
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        bgr_to_rgb=True),
    backbone=dict(
        _delete_=True,
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
    decode_head=dict(align_corners=False))
