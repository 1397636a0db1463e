# Source-only DeepLabV2 (ResNet-101): trained on GTA5 (1280x720, 1024x512
# crops), validated on Cityscapes val (1344x576 input, scored at 2048x1024
# with MMSeg's IoUMetric per-class table). 150k iterations of FDA's poly
# schedule, batch 1 (FDA's code has no source-only run: its adapted runs stop
# at 100k).
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/datasets/gta5_1280x720.py',
    '../_base_/datasets/cityscapes_1024x512.py',
    '../_base_/schedules/schedule_sgd-poly_150k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    # DeepLab_resnet_pretrained_init-f81d91e8.pth converted with
    # tools/model_converters/deeplabv2_reference.py init (never downloaded);
    # override with --cfg-options model.pretrained=PATH.
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    # Training batches are padded to the crop size.
    data_preprocessor=dict(size={{_base_.source_crop_size}}))
