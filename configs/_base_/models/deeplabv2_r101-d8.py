# DeepLabV2 as FDA, ADVENT and DACS train it (Chen et al., TPAMI 2017;
# YanchaoYang/FDA model/deeplab.py): the caffe-style ResNet-101 (7x7 stem,
# stride in the 1x1 convolution, ceil-mode max-pool), dilation 2 and 4 in every
# block of the last two stages, BatchNorm with fixed affine parameters, and the
# ASPP classifier with dilations (6, 12, 18, 24) summed. Inputs are BGR 0-255
# minus the caffe mean, not divided by a std, as the DeepLab initialization
# expects. docs/fidelity.md lists every setting against the reference.
# ImageNet weights: convert DeepLab_resnet_pretrained_init-f81d91e8.pth with
#   python tools/model_converters/deeplabv2_reference.py init SRC DST
# and give DST as `pretrained` (nothing is downloaded):
#   --cfg-options model.pretrained=checkpoints/deeplabv2_init_mmseg.pth
# The runtime comes in here, not as a base of its own in the leaves: it
# brings `default_scope` (MMSeg's runtime defines it), which a config made of
# this file alone needs too, and mmengine refuses a key that two `_base_`
# files of one list define.
_base_ = ['../default_runtime.py']
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
# requires_grad=False: the reference never trains BN's weight and bias (and
# gives them no weight decay). norm_eval stays False: the reference trains in
# model.train() mode, so BN uses batch statistics and updates running ones.
norm_cfg = dict(type='BN', requires_grad=False)
data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[104.00698793, 116.66876762, 122.67891434],
    std=[1.0, 1.0, 1.0],
    bgr_to_rgb=False,
    pad_val=0,
    seg_pad_val=255)
model = dict(
    type='EncoderDecoder',
    data_preprocessor=data_preprocessor,
    pretrained=None,
    backbone=dict(
        type='DeepLabV2ResNet',
        depth=101,
        norm_cfg=norm_cfg,
        norm_eval=False,
        maxpool_ceil_mode=True),
    decode_head=dict(
        type='DLV2Head',
        in_channels=2048,
        in_index=0,
        dilations=(6, 12, 18, 24),
        num_classes=19,
        # The reference upsamples the logits with align_corners=True.
        align_corners=True,
        # Mean over labeled pixels (F.cross_entropy with ignore 255).
        loss_decode=dict(type='ValidPixelCrossEntropyLoss', loss_weight=1.0)),
    train_cfg=dict(),
    test_cfg=dict(mode='whole'))
