# Backbone and decode head shared by the r18-d8-dlv2 stage configs:
# MMSeg's ResNet-18 (V1c, output stride 8) and DLV2Head.
# `_delete_` makes them replace the DeepLabV2 ones they are merged into.
mix_backbone = dict(
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
    contract_dilation=True)
mix_decode_head = dict(
    _delete_=True,
    type='DLV2Head',
    in_channels=512,
    in_index=0,
    dilations=(6, 12, 18, 24),
    num_classes=19,
    align_corners=False,
    # Mean over labeled pixels; unweighted (the DeepLabV2 stage configs add
    # the method's class weights; a replaced head drops them).
    loss_decode=dict(
        type='ValidPixelCrossEntropyLoss',
        loss_weight=1.0))
