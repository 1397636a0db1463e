# DAFormer's training strategy on DeepLabV2 as DAFormer ran it (Hoyer et al.,
# CVPR 2022; ResNetV1c-101, ImageNet weights, trainable BN, RGB input,
# dilations 6 and 12: deeplabv2red_r101-v1c-d8.py) for
# Cityscapes -> Dark Zurich: DACS with rare-class sampling, teacher alpha 0.999, no pseudo-label
# crop (no ego-car rows in the target), the ImageNet feature distance on
# thing classes; AdamW 6e-5 over 40k iterations. Validated on Dark Zurich val; tools/test.py CONFIG CKPT --out DIR writes
# the test split in the Dark Zurich server's format.
# Not yet reproduced with this project (no GPU run so far; see docs/data.md).
# RCS reads <cityscapes data_root>/class_stats.json, written by
#   python tools/dataset_converters/class_stats.py THIS_CONFIG --nproc 8
_base_ = [
    '../_base_/models/deeplabv2red_r101-v1c-d8.py',
    '../_base_/uda/cityscapes-dark-zurich_uda-512x512.py',
    '../_base_/uda/daformer-recipe.py',
    '../_base_/schedules/schedule_adamw-poly_40k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
# No pseudo-label crop: lhoyer/HRDA (experiments.py id 49) and lhoyer/MIC
# (seg/experiments.py id 80) use it only for Cityscapes targets ("ACDC and
# DarkZurich have no rectification artifacts").
model = dict(
    _base_.uda_model,
    data_preprocessor=dict(
        _base_.uda_model.data_preprocessor, size=_base_.online_crop_size),
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0)
train_dataloader = dict(
    dataset=dict(rare_class_sampling=_base_.rare_class_sampling))
