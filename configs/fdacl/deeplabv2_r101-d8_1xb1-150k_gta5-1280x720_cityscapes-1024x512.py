# Source-only DeepLabV2 (ResNet-101): trained on GTA5 (1280x720, 1024x512
# crops), validated on Cityscapes val (1024x512 input, scored at 2048x1024
# with MMSeg's IoUMetric per-class table). 150k iterations, batch 1.
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/datasets/gta5_1280x720.py',
    '../_base_/datasets/cityscapes_1024x512.py',
    '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_sgd-poly_150k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    # ImageNet ResNet-101 V1c weights, read from this local file (nothing is
    # downloaded); override with --cfg-options model.pretrained=PATH.
    pretrained='checkpoints/resnet101_v1c.pth',
    # Training batches are padded to the crop size.
    data_preprocessor=dict(size={{_base_.source_crop_size}}))
