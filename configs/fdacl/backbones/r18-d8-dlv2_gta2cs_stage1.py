# Stage 1 with MMSeg's ResNet-18 (V1c, output stride 8) + DLV2Head, by config
# alone: the DeepLabV2 stage-1 config with backbone and head replaced.
_base_ = [
    '../deeplabv2_r101-d8_uda-stage1-gray-ent_1xb1-100k_gta5-1280x720_cityscapes-1024x512.py',
    './_r18-d8-dlv2.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    # A local ImageNet ResNet-18 V1c file, or None to train from scratch.
    pretrained=None,
    backbone={{_base_.mix_backbone}},
    decode_head={{_base_.mix_decode_head}},
)
