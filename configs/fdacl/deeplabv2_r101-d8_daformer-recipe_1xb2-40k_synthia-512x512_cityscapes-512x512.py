# DAFormer's training strategy on DeepLabV2 as DAFormer ran it (Hoyer et al.,
# CVPR 2022; ResNetV1c-101, ImageNet weights, trainable BN, RGB input,
# dilations 6 and 12: deeplabv2red_r101-v1c-d8.py) for
# SYNTHIA -> Cityscapes: DACS with rare-class sampling, teacher alpha 0.999, the ego-car
# rows out of the pseudo-label weight and the ImageNet feature distance on
# thing classes; AdamW 6e-5 over 40k iterations. Scored as mIoU16 and mIoU13 beside mIoU (ClassSubsetIoUMetric).
# Not yet reproduced with this project (no GPU run so far; see docs/data.md).
# RCS reads <synthia data_root>/class_stats.json, written by
#   python tools/dataset_converters/synthia.py data/synthia --nproc 8
_base_ = [
    '../_base_/models/deeplabv2red_r101-v1c-d8.py',
    '../_base_/uda/synthia-cityscapes_uda-512x512.py',
    '../_base_/uda/daformer-recipe.py',
    '../_base_/schedules/schedule_adamw-poly_40k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    _base_.uda_model,
    data_preprocessor=dict(
        _base_.uda_model.data_preprocessor, size=_base_.online_crop_size))
train_dataloader = dict(
    dataset=dict(rare_class_sampling=_base_.rare_class_sampling))
