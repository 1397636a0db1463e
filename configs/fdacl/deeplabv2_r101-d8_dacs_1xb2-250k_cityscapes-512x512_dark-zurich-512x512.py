# DACS (Tranheden et al., WACV 2021) on DeepLabV2 (ResNet-101) for Cityscapes -> Dark Zurich:
# mean teacher (alpha 0.99), ClassMix, colour jitter and blur,
# quality-weighted pseudo labels; SGD 2.5e-4 over 250k iterations, batches
# of two 512x512 crops (DAFormer's data settings for this benchmark).
# Validated on Dark Zurich val; tools/test.py CONFIG CKPT --out DIR writes
# the test split in the Dark Zurich server's format.
# Not yet reproduced with this project (no GPU run so far; see docs/data.md).
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/uda/cityscapes-dark-zurich_uda-512x512.py',
    '../_base_/uda/dacs.py',
    '../_base_/schedules/schedule_sgd-poly_250k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    _base_.uda_model,
    data_preprocessor=dict(
        _base_.uda_model.data_preprocessor, size=_base_.online_crop_size),
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    # DACS' classifier returns inside its loop: dilations 6 and 12 act
    decode_head=dict(dilations='deeplabv2red'))
