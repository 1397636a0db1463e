# Stage 2 with MMSeg's ResNet-18 (V1c, output stride 8) + DLV2Head, by config
# alone, with a ProjectionHead (256 -> 128-d unit embeddings on the backbone
# features) for the contrastive term instead of the class scores.
# Pseudo labels from the stage-1 checkpoint (PseudoLabelHook); another one:
#   --cfg-options stage1_checkpoint=STAGE1.pth load_from=STAGE1.pth
_base_ = [
    '../deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py',
    './_r18-d8-dlv2.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
stage1_checkpoint = 'work_dirs/r18-d8-dlv2_gta2cs_stage1/iter_100000.pth'
load_from = stage1_checkpoint
model = dict(
    # Initialized from stage 1 (load_from), not the DeepLabV2 ImageNet file.
    pretrained=None,
    backbone={{_base_.mix_backbone}},
    decode_head={{_base_.mix_decode_head}},
    auxiliary_head=dict(
        type='ProjectionHead',
        in_channels=512,
        in_index=0,
        channels=256,
        embed_dim=128,
        num_classes=19),
    embedding='projection')
