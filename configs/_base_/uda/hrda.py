# HRDA (Hoyer et al., ECCV 2022) as a method block, on DAFormer's training
# strategy (daformer-recipe.py), as lhoyer/HRDA configs/hrda/gtaHR2csHR_hrda.py:
# the student sees each 1024x1024 training crop as a context (scale 0.5) and a
# 512x512 detail crop at full resolution at a random position (offsets
# multiples of 8); HRDAHead fuses both predictions with a class-wise scale
# attention (a sigmoid over a light copy of the head, from the context
# features) and is trained on 0.9 x the fused loss + 0.1 x the detail loss;
# the teacher's pseudo labels are the fused prediction with overlapping
# sliding detail crops (stride 256); the feature distance is on the context
# features; pseudo-label margins come from the loader (the HR data fragment)
# instead of ignored rows; rare-class crops need 2.0 x 3000 pixels (4x the
# pixels of DAFormer's 512 crops); testing slides 1024x1024 windows at stride
# 512 over the 2048x1024 frame, the windows as one batch.
# Leaves wrap the model base's head: decode_head=dict(
#   _delete_=True, **uda_model.decode_head, single_scale_head=<its head>).
_base_ = ['./daformer-recipe.py']
uda_model = dict(
    type='HRDASelfTrainingEncoderDecoder',
    hr_crop_size=(512, 512),
    context_scale=0.5,
    crop_coord_divisible=8,
    hr_slide_inference=True,
    hr_slide_overlapping=True,
    pseudo_weight_ignore_top=0,
    pseudo_weight_ignore_bottom=0,
    decode_head=dict(
        type='HRDAHead',
        attention_classwise=True,
        attention_embed_dim=256,
        hr_loss_weight=0.1,
        lr_loss_weight=0.0),
    test_cfg=dict(
        mode='slide',
        batched_slide=True,
        crop_size=(1024, 1024),
        stride=(512, 512)))
rare_class_sampling = dict(min_crop_ratio=2.0)
