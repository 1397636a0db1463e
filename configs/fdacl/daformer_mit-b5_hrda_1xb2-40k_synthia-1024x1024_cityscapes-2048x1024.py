# HRDA (Hoyer et al., ECCV 2022) with DAFormer's network (MiT-B5 + DAFormer
# head) on SYNTHIA -> Cityscapes at high resolution, as the GTA5 leaf
# (daformer_mit-b5_hrda_1xb2-40k_gta5-1024x1024_cityscapes-2048x1024.py) on the
# HR data fragment
# ../_base_/datasets/synthia-2560x1520_cityscapes-2048x1024_uda-1024x1024.py
# (lhoyer/HRDA experiments.py id 40 (synthiaHR -> cityscapesHR)): the HRDA
# method block (configs/_base_/uda/hrda.py) on DAFormer's training strategy,
# DAFormer's schedule, batch 2 on one GPU; the pseudo-label margins of a
# Cityscapes target (30, 240, 30, 30); scored as mIoU16 and mIoU13 beside mIoU
# (ClassSubsetIoUMetric).
# Published: 65.8 mIoU16 on Cityscapes val (HRDA's README); not yet reproduced
# here (no GPU run so far).
# RCS reads <synthia data_root>/class_stats.json, written by
#   python tools/dataset_converters/synthia.py data/synthia --nproc 8
# ImageNet weights: checkpoints/mit_b5_mmseg.pth (docs/daformer.md).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/synthia-2560x1520_cityscapes-2048x1024_uda-1024x1024.py',
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
