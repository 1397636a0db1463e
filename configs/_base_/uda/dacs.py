# DACS (Tranheden et al., WACV 2021) as a method block: online self-training
# with a mean teacher (EMA alpha 0.99, DACS' value) whose argmax pseudo
# labels on the target are weighted by their quality (the share of pixels
# above confidence 0.968); the student trains on ClassMix images (half of the
# classes of a source image pasted onto a target image) after colour jitter
# and Gaussian blur, and on the source with plain cross-entropy. DACS' strong augmentation: colour jitter on 80% of the
# batches (DACS and DAFormer draw U(0, 1) and jitter above 0.2), strength
# 0.25 (DACS; DAFormer uses 0.2), Gaussian blur on half of them. No entropy, no FDA, no contrast: those are switches of
# SelfTrainingEncoderDecoder (docs/online_self_training.md).
uda_model = dict(
    type='SelfTrainingEncoderDecoder',
    data_preprocessor=dict(type='UDADataPreProcessor'),
    source_ce=True,
    lambda_st=1.0,
    pseudo_threshold=0.968,
    mix='class',
    strong_augment=dict(color_jitter_p=0.8, color_jitter_s=0.25, blur=True),
    teacher_mode='train')
# The teacher: created, updated after each optimizer step, saved in every
# checkpoint and restored on resume by this hook. evaluate='student' is what
# DACS, DAFormer and MIC report; 'teacher' evaluates the EMA weights.
custom_hooks = [dict(type='MeanTeacherHook', alpha=0.99, evaluate='student')]
