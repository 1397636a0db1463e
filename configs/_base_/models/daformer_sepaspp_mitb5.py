# DAFormer (Hoyer et al., CVPR 2022): MiT-B5 encoder and the DAFormer decoder
# with context-aware fusion, as lhoyer/DAFormer
# configs/_base_/models/daformer_sepaspp_mitb5.py (on daformer_conv1_mitb5.py):
# every level embedded to 256 channels by a linear layer (embed_cfg and
# embed_neck_cfg 'mlp'), upsampled to 1/4 and concatenated, fused by a
# depthwise separable ASPP (dilations 1, 6, 12, 18, no pooling branch, BN,
# ReLU) into 256 channels; dropout 0.1 and a 1x1 classifier.
# The encoder is MMSeg's own MixVisionTransformer set to MiT-B5 (SegFormer's
# mit_b5: embed_dims 64, num_layers [3, 6, 40, 3], LayerNorm eps 1e-6,
# drop_path_rate 0.1). ImageNet weights: SegFormer's mit_b5.pth converted by
# MMSeg's converter (nothing is downloaded at run time; docs/daformer.md):
#   python <mmseg>/tools/model_converters/mit2mmseg.py mit_b5.pth \
#       checkpoints/mit_b5_mmseg.pth
# Inputs are RGB with the ImageNet mean/std, as DAFormer's img_norm_cfg.
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
    pretrained='checkpoints/mit_b5_mmseg.pth',
    backbone=dict(
        type='MixVisionTransformer',
        in_channels=3,
        embed_dims=64,
        num_stages=4,
        num_layers=[3, 6, 40, 3],
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
        with_cp=False),
    decode_head=dict(
        type='DAFormerHead',
        in_channels=[64, 128, 320, 512],
        in_index=[0, 1, 2, 3],
        channels=256,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        embed_dims=256,
        embed_cfg=dict(layer='mlp', act_cfg=None, norm_cfg=None),
        embed_neck_cfg=dict(layer='mlp', act_cfg=None, norm_cfg=None),
        fusion_cfg=dict(
            layer='aspp',
            sep=True,
            dilations=(1, 6, 12, 18),
            pool=False,
            act_cfg=dict(type='ReLU'),
            norm_cfg=norm_cfg),
        loss_decode=dict(
            type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
