# Stage 1 with MMSeg's ResNet-18 (V1c, output stride 8) + DLV2Head, by config
# alone: the DeepLabV2 stage-1 config with backbone and head replaced.
_base_ = '../deeplabv2_gta2cs_stage1.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    # A local ImageNet ResNet-18 V1c file, or None to train from scratch.
    pretrained=None,
    backbone=dict(
        _delete_=True,
        type='ResNetV1c',
        depth=18,
        num_stages=4,
        out_indices=(3, ),
        dilations=(1, 1, 2, 4),
        strides=(1, 2, 1, 1),
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=False,
        style='pytorch',
        contract_dilation=True),
    decode_head=dict(
        _delete_=True,
        type='DLV2Head',
        in_channels=512,
        in_index=0,
        dilations=(6, 12, 18, 24),
        num_classes=19,
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
)
