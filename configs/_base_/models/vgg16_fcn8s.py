# VGG16 FCN-8s (Long et al., CVPR 2015), the VGG16 model of FDA (Yang & Soatto,
# CVPR 2020): conv1-conv5, fc6 (7x7) and fc7 as convolutions, and `FCN8sHead`
# fusing class scores of pool3, pool4 and fc7. The last 8x bilinear
# upsampling is MMSeg's resize of the logits.
# ImageNet weights are read from a local file; nothing is downloaded. The
# backbone takes torchvision's VGG16 checkpoint as it is (`features.*` load by
# name, `classifier.0/3` are reshaped into fc6/fc7; mean/std below are the
# ones it was trained with). Put the file at e.g.
# checkpoints/vgg16-397923af.pth and set `pretrained` here or on the command
# line:
#   --cfg-options model.pretrained=checkpoints/vgg16-397923af.pth
# DeepLab-LargeFOV instead: backbone strides=(2, 2, 2, 1, 1),
# dilations=(1, 1, 1, 1, 2), fc6_kernel_size=3, fc6_dilation=12,
# fc_channels=1024, out_indices=(5, ), and a 1x1 classifier head:
# dict(type='FCNHead', in_channels=1024, channels=1024, num_convs=0,
# concat_input=False, dropout_ratio=0.0); torchvision's fc6/fc7 do not fit
# that fc6 and stay randomly initialized (the checkpoint loader warns).
# The runtime comes in here, not as a base of its own in the leaves: it
# brings `default_scope` (MMSeg's runtime defines it), which a config made of
# this file alone needs too, and mmengine refuses a key that two `_base_`
# files of one list define.
_base_ = ['../default_runtime.py', './imagenet_data_preprocessor.py']
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=_base_.data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='VGG16',
        in_channels=3,
        base_channels=64,
        fc_channels=4096,
        fc6_kernel_size=7,
        fc6_dilation=1,
        strides=(2, 2, 2, 2, 2),
        dilations=(1, 1, 1, 1, 1),
        dropout_ratio=0.5,
        out_indices=(2, 3, 5),  # pool3, pool4, fc7
        norm_cfg=None),
    decode_head=dict(
        type='FCN8sHead',
        in_channels=(256, 512, 4096),
        in_index=(0, 1, 2),
        num_classes=19,
        align_corners=False,
        loss_decode=dict(
            type='ValidPixelCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
