# Backbone and decode head shared by the mobilenet-v2-d8-aspp stage configs:
# MMSeg's MobileNetV2 (output stride 8) and ASPPHead (DeepLabV3).
# `_delete_` makes them replace the DeepLabV2 ones they are merged into.
mix_backbone = dict(
    _delete_=True,
    type='MobileNetV2',
    widen_factor=1.,
    strides=(1, 2, 2, 1, 1, 1, 1),
    dilations=(1, 1, 1, 2, 2, 4, 4),
    out_indices=(1, 2, 4, 6),
    norm_cfg=dict(type='BN', requires_grad=True))
mix_decode_head = dict(
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
    # Mean over labeled pixels; unweighted (the DeepLabV2 stage configs add
    # the method's class weights; a replaced head drops them).
    loss_decode=dict(
        type='ValidPixelCrossEntropyLoss',
        loss_weight=1.0))
