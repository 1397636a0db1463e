# Written by tools/make_custom_config.py (docs/custom_dataset.md); edit freely.
# Stage 2 of the method on these folders: FDA (beta 0.09) both ways, entropy,
# the pixel contrastive loss with the stage-1 pseudo labels (PseudoLabelHook
# makes them from `stage1_checkpoint` into <work_dir>/pseudo_labels);
# SGD poly over 60k iterations, entropy and contrast from 50k.
_base_ = [
    '../../_base_/models/deeplabv2_r101-d8.py',
    '../../_base_/uda/method-stage2-fda-cl.py',
    './coast_data.py',
    '../../_base_/schedules/schedule_sgd-poly_60k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
stage1_checkpoint = 'work_dirs/deeplabv2_coast_stage1/iter_100000.pth'
model = dict(
    _base_.uda_model,
    data_preprocessor=dict(_base_.uda_model.data_preprocessor,
                           size=_base_.crop_size),
    pretrained='checkpoints/deeplabv2_init_mmseg.pth',
    decode_head=dict(num_classes=_base_.num_classes),
    entropy_resolution='native',
    embedding_resolution='input')
train_dataloader = dict(
    dataset=dict(target=dict(
        pipeline=_base_.target_train_pipeline_pseudo_labels)))
