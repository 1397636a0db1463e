# Stage 2 with MMSeg's MobileNetV2 (output stride 8) + MMSeg's ASPPHead, by
# config alone (class scores as contrastive embeddings, as the method).
# Pseudo labels from the stage-1 checkpoint (PseudoLabelHook); another one:
#   --cfg-options stage1_checkpoint=STAGE1.pth load_from=STAGE1.pth
_base_ = [
    '../deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py',
    './_mobilenet-v2-d8-aspp.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
stage1_checkpoint = ('work_dirs/mobilenet-v2-d8-aspp_gta2cs_stage1/'
                     'iter_100000.pth')
load_from = stage1_checkpoint
model = dict(
    # Initialized from stage 1 (load_from), not the DeepLabV2 ImageNet file.
    pretrained=None,
    backbone={{_base_.mix_backbone}},
    decode_head={{_base_.mix_decode_head}},
)
