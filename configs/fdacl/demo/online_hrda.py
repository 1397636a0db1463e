# HRDA on the demo: online_daformer.py with HRDA's multi-resolution training
# (the segmentor and head settings of configs/_base_/uda/hrda.py, written out
# here: that fragment sits on DAFormer's full-size recipe) scaled to the
# demo's 128x256 frames. HRDA's 1024x1024 training crop is the whole demo
# frame; its context is that frame at HRDA's scale 0.5 (64x128) and its detail
# crop half the crop in each side, as HRDA's 512 of 1024: 64x128 at full
# resolution, offsets multiples of 8. HRDAHead's class-wise scale attention is
# a copy of the DAFormer head with the demo head's 32 channels (HRDA: 256);
# losses 0.9 x fused + 0.1 x detail. The teacher labels with overlapping
# sliding detail crops (stride half the crop). Testing is whole-frame (HRDA
# slides 1024 windows over 2048x1024 frames; one demo frame is one window).
# Rare-class sampling as online_rcs.py (the whole frame is the crop, so
# HRDA's min_crop_ratio has nothing to act on).
_base_ = ['./online_daformer.py']
model = dict(
    type='HRDASelfTrainingEncoderDecoder',
    hr_crop_size=(64, 128),
    context_scale=0.5,
    crop_coord_divisible=8,
    hr_slide_inference=True,
    hr_slide_overlapping=True,
    decode_head=dict(
        _delete_=True,
        type='HRDAHead',
        attention_classwise=True,
        attention_embed_dim=_base_.mit_head_dims,
        hr_loss_weight=0.1,
        lr_loss_weight=0.0,
        single_scale_head=_base_.daformer_head),
    test_cfg=dict(mode='whole'))
