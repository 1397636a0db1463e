# Stage 2 with MMSeg's MobileNetV2 (output stride 8) + MMSeg's ASPPHead, by
# config alone (class scores as contrastive embeddings, as the method).
#   --cfg-options load_from=work_dirs/mobilenet-v2-d8-aspp_gta2cs_stage1/iter_100000.pth \
#                 train_dataloader.dataset.pseudo_label_dir=DIR
_base_ = '../deeplabv2_gta2cs_stage2.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
load_from = 'work_dirs/mobilenet-v2-d8-aspp_gta2cs_stage1/iter_100000.pth'
train_dataloader = dict(
    dataset=dict(
        pseudo_label_dir='work_dirs/mobilenet-v2-d8-aspp_gta2cs_stage1/'
        'pseudo_labels'))
model = dict(
    backbone=dict(
        _delete_=True,
        type='MobileNetV2',
        widen_factor=1.,
        strides=(1, 2, 2, 1, 1, 1, 1),
        dilations=(1, 1, 1, 2, 2, 4, 4),
        out_indices=(1, 2, 4, 6),
        norm_cfg=dict(type='BN', requires_grad=True)),
    decode_head=dict(
        _delete_=True,
        type='ASPPHead',
        in_channels=320,
        in_index=3,
        channels=512,
        dilations=(1, 12, 24, 36),
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=dict(type='BN', requires_grad=True),
        align_corners=False,
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
)
