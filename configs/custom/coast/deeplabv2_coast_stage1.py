# Written by tools/make_custom_config.py (docs/custom_dataset.md); edit freely.
# Stage 1 of the method on these folders: grayscale source and target,
# cross-entropy on the source + entropy on the target; DeepLabV2 (ResNet-101),
# SGD poly over 100k iterations.
_base_ = [
    '../../_base_/models/deeplabv2_r101-d8.py',
    '../../_base_/uda/method-stage1-gray-entropy.py',
    './coast_data.py',
    '../../_base_/schedules/schedule_sgd-poly_100k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    _base_.uda_model,
    data_preprocessor=dict(_base_.uda_model.data_preprocessor,
                           size=_base_.crop_size),
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    decode_head=dict(num_classes=_base_.num_classes),
    entropy_resolution='native')
