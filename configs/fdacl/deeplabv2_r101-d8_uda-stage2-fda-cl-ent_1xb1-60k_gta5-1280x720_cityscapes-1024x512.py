# Stage 2 of the method, DeepLabV2 (ResNet-101), as the method's notebook
# trains it: from the ImageNet initialization, the class-weighted
# cross-entropy, the entropy at the decoder's resolution, the embeddings at
# the input's; poly decay over 60k iterations.
# deeplabv2_gta2cs_stage2-from-stage1.py starts from stage 1 instead.
# Reproduces: the method's presentation, main table "Ours" ResNet-101 (46.42 mIoU) and the
# first row of the DeepLab ablation (CL, entropy on).
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/uda/stage2-fda-cl.py',
    '../_base_/uda/method_class_weights.py',
    '../_base_/schedules/schedule_sgd-poly_60k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
# The final checkpoint of deeplabv2_gta2cs_stage1.py (tools/train.py).
stage1_checkpoint = 'work_dirs/deeplabv2_gta2cs_stage1/iter_100000.pth'
model = dict(
    _base_.uda_model,
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    decode_head=dict(
        loss_decode=dict(class_weight={{_base_.method_class_weight}})),
    entropy_resolution='native',
    embedding_resolution='input')
