# Source-only DeepLabV2 (ResNet-101) for SYNTHIA -> Cityscapes: trained on SYNTHIA (1280x760, 1024x512 crops), validated on Cityscapes
# val (1344x576 input, scored at 2048x1024) with mIoU over 19, 16 (mIoU16)
# and 13 (mIoU13) classes.
# 150k iterations of FDA's poly schedule, batch 1, as the GTA5 source-only
# leaf. Not yet reproduced with this project (no GPU run so far; see docs/data.md).
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/datasets/synthia_1280x760.py',
    '../_base_/datasets/cityscapes_1024x512.py',
    '../_base_/schedules/schedule_sgd-poly_150k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    data_preprocessor=dict(size={{_base_.source_crop_size}}))
val_evaluator = {{_base_.synthia_evaluator}}
test_evaluator = val_evaluator
