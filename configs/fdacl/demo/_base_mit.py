# The demo's transformer network: MMSeg's MixVisionTransformer at tiny widths
# with the DAFormer head (DAFormerHead as configs/_base_/models/
# daformer_sepaspp_mitb5.py: linear embeddings of the four levels, upsampled
# to 1/4, depthwise separable ASPP fusion with dilations 1, 6, 12, 18, no
# pooling branch), sized to the demo's CPU budget: MiT widths 16, 32, 80, 128
# (a quarter of MiT-B0's 32, 64, 160, 256; SegFormer's heads 1, 2, 5, 8, so
# 16 channels per head), one block per stage (MiT-B0 has two), SegFormer's
# patch sizes, strides and reduction ratios; the head embeds and fuses into 64
# channels (DAFormer: 256; 64 would cost 2.5x the time of a training iteration). Trained from scratch: no ImageNet weights of such a
# network exist, so no pretrained and no ImageNet feature distance. These are
# variables for the leaves (source-only_mit.py, online_daformer.py, ...), which
# replace the demo's DeepLabV2 backbone and head with them.
mit_backbone = dict(
    type='MixVisionTransformer',
    in_channels=3,
    embed_dims=16,
    num_stages=4,
    num_layers=[1, 1, 1, 1],
    num_heads=[1, 2, 5, 8],
    patch_sizes=[7, 3, 3, 3],
    strides=[4, 2, 2, 2],
    sr_ratios=[8, 4, 2, 1],
    out_indices=(0, 1, 2, 3),
    mlp_ratio=4,
    qkv_bias=True,
    drop_rate=0.0,
    attn_drop_rate=0.0,
    drop_path_rate=0.1,
    norm_cfg=dict(type='LN', eps=1e-6),
    with_cp=False)
mit_head_dims = 32
daformer_head = dict(
    type='DAFormerHead',
    in_channels=[16, 32, 80, 128],
    in_index=[0, 1, 2, 3],
    channels=mit_head_dims,
    dropout_ratio=0.1,
    num_classes=19,
    norm_cfg=dict(type='BN', requires_grad=True),
    align_corners=False,
    embed_dims=mit_head_dims,
    embed_cfg=dict(layer='mlp', act_cfg=None, norm_cfg=None),
    embed_neck_cfg=dict(layer='mlp', act_cfg=None, norm_cfg=None),
    fusion_cfg=dict(
        layer='aspp',
        sep=True,
        dilations=(1, 6, 12, 18),
        pool=False,
        act_cfg=dict(type='ReLU'),
        norm_cfg=dict(type='BN', requires_grad=True)),
    loss_decode=dict(type='ValidPixelCrossEntropyLoss', loss_weight=1.0))
