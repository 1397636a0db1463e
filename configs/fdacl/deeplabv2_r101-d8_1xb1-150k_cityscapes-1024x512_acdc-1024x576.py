# Source-only DeepLabV2 (ResNet-101) for Cityscapes -> ACDC: trained on Cityscapes train (1024x512), validated on ACDC val
# (1024x576 input, scored at 1920x1080); tools/test.py writes the ACDC test
# predictions in the server's format (--out DIR).
# 150k iterations of FDA's poly schedule, batch 1, as the GTA5 source-only
# leaf. Not yet reproduced with this project (no GPU run so far; see docs/data.md).
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/datasets/cityscapes-source_1024x512.py',
    '../_base_/datasets/acdc_1024x576.py',
    '../_base_/schedules/schedule_sgd-poly_150k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    data_preprocessor=dict(size={{_base_.source_crop_size}}))
