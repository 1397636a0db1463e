# This project's combination online, on DeepLabV2: DAFormer's self-training
# recipe (RCS, EMA 0.999, ClassMix) with the method's FDA (source in target
# style, beta 0.01; teacher pseudo labels on the target in source style),
# entropy and cross-view pixel contrast on the teacher's pseudo labels
# (configs/_base_/uda/fda-cl-online.py). No published number exists for it;
# not yet run on GTA5 -> Cityscapes with this project (see README).
# RCS reads <gta5 data_root>/class_stats.json, written by
#   python tools/dataset_converters/gta5.py data/gta5 --nproc 8
_base_ = [
    '../_base_/models/deeplabv2_r101-d8.py',
    '../_base_/uda/gta5-cityscapes_uda-512x512.py',
    '../_base_/uda/daformer-recipe.py',
    '../_base_/uda/fda-cl-online.py',
    '../_base_/schedules/schedule_adamw-poly_40k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    _base_.uda_model,
    **_base_.online_fda_cl,
    data_preprocessor=dict(
        _base_.uda_model.data_preprocessor,
        fda=_base_.online_fda,
        size=_base_.online_crop_size),
    pretrained='checkpoints/deeplabv2_init_mmseg.pth')
train_dataloader = dict(
    dataset=dict(rare_class_sampling=_base_.rare_class_sampling))
