# HRDA (Hoyer et al., ECCV 2022) with DAFormer's network (MiT-B5 + DAFormer
# head, configs/_base_/models/daformer_sepaspp_mitb5.py) on GTA5 -> Cityscapes
# at high resolution, as lhoyer/HRDA configs/hrda/gtaHR2csHR_hrda.py: the
# HRDA method block (configs/_base_/uda/hrda.py) on DAFormer's training
# strategy, DAFormer's schedule (AdamW 6e-5, head and scale attention at 10x,
# warm-up and poly over 40k iterations; schedule_adamw-poly_40k.py), batch 2
# on one GPU. Published: 73.8 mIoU
# (HRDA's README); not yet reproduced here (no GPU run so far).
# RCS reads <gta5 data_root>/class_stats.json, written by
#   python tools/dataset_converters/gta5.py data/gta5 --nproc 8
# ImageNet weights: checkpoints/mit_b5_mmseg.pth (docs/daformer.md).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/gta5-2560x1440_cityscapes-2048x1024_uda-1024x1024.py',
    '../_base_/uda/hrda.py',
    '../_base_/schedules/schedule_adamw-poly_40k.py',
]
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
model = dict(
    _base_.uda_model,
    data_preprocessor=dict(
        _base_.uda_model.data_preprocessor, size=_base_.online_crop_size),
    decode_head=dict(
        _delete_=True,
        **_base_.uda_model.decode_head,
        single_scale_head=_base_.model.decode_head))
train_dataloader = dict(
    dataset=dict(rare_class_sampling=_base_.rare_class_sampling))
