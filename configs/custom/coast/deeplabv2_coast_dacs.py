# Written by tools/make_custom_config.py (docs/custom_dataset.md); edit freely.
# DACS (Tranheden et al., WACV 2021) on these folders: mean teacher, ClassMix,
# colour jitter and blur, quality-weighted pseudo labels; batches of two crops,
# SGD poly over 250k iterations.
_base_ = [
    '../../_base_/models/deeplabv2_r101-d8.py',
    './coast_data.py',
    '../../_base_/uda/dacs.py',
    '../../_base_/schedules/schedule_sgd-poly_250k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    _base_.uda_model,
    data_preprocessor=dict(_base_.uda_model.data_preprocessor,
                           size=_base_.crop_size),
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    decode_head=dict(num_classes=_base_.num_classes))
train_dataloader = dict(batch_size=2)
