# ENet (Paszke et al., 2016): the encoder (initial block, bottleneck stages
# 1-3) is the `ENet` backbone, the decoder (stages 4-5 with max-unpooling and
# the final transposed conv) is `ENetHead`; 0.36M parameters, logits at the
# input size. ENet is trained from scratch: there are no ImageNet weights. To
# start from a local checkpoint (e.g. an encoder trained first, as the paper
# does), set `pretrained` here or on the command line:
#   --cfg-options model.pretrained=checkpoints/enet_encoder.pth
# The paper weights classes by 1 / ln(1.02 + p_class); pass such weights as
# `class_weight` of the CrossEntropyLoss (per data set, so not set here).
# The runtime comes in here, not as a base of its own in the leaves: it
# brings `default_scope` (MMSeg's runtime defines it), which a config made of
# this file alone needs too, and mmengine refuses a key that two `_base_`
# files of one list define.
_base_ = ['../default_runtime.py', './imagenet_data_preprocessor.py']
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=_base_.data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='ENet',
        in_channels=3,
        channels=(16, 64, 128),
        num_stage1_blocks=4,
        dilations=(2, 4, 8, 16),
        asymmetric_kernel_size=5,
        dropout_ratios=(0.01, 0.1),
        norm_cfg=norm_cfg),
    decode_head=dict(
        # Consumes all four backbone outputs (features, pooling indices of
        # bottlenecks 2.0 and 1.0, sizes); use no neck between them.
        type='ENetHead',
        in_channels=128,
        decoder_channels=(64, 16),
        num_stage4_blocks=2,
        num_stage5_blocks=1,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(
            type='ValidPixelCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
