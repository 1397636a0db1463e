# HRDA (Hoyer et al., ECCV 2022) with DAFormer's network (MiT-B5 + DAFormer
# head) on Cityscapes -> ACDC at high resolution, as the GTA5 leaf
# (daformer_mit-b5_hrda_1xb2-40k_gta5-1024x1024_cityscapes-2048x1024.py) on the
# HR data fragment
# ../_base_/datasets/cityscapes-2048x1024_acdc-1920x1080_uda-1024x1024.py
# (lhoyer/HRDA
# configs/_base_/datasets/uda_cityscapesHR_to_acdcHR_1024x1024.py): the HRDA
# method block (configs/_base_/uda/hrda.py) on DAFormer's training strategy,
# DAFormer's schedule, batch 2 on one GPU; no pseudo-label margins (an ACDC
# target has no rectification border); validated on ACDC val; tools/test.py
# CONFIG CKPT --out DIR writes the test split in the ACDC server's format.
# Published: 68.0 mIoU on ACDC test (HRDA's README); not yet reproduced here
# (no GPU run so far).
# RCS reads <cityscapes data_root>/class_stats.json, written by
#   python tools/dataset_converters/class_stats.py THIS_CONFIG --nproc 8
# ImageNet weights: checkpoints/mit_b5_mmseg.pth (docs/daformer.md).
_base_ = [
    '../_base_/models/daformer_sepaspp_mitb5.py',
    '../_base_/datasets/cityscapes-2048x1024_acdc-1920x1080_uda-1024x1024.py',
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
