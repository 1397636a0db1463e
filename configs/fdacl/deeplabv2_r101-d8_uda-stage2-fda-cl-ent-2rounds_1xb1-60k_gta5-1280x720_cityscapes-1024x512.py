# Stage 2 with self-training rounds, as FDA's self-supervised training (two
# rounds): the stage-1 checkpoint labels round 0; at iteration 30k the
# current weights are saved to <work_dir>/pseudo_labels/round_1.pth and
# relabel the target set (round_1/), which trains the rest. A resumed run
# labels with the round's saved weights. Round 0 is labeled as stage 2 (the
# grayscale stage 1 on source-styled target images); round 1 by the colour
# model being trained, so on the plain colour target images, as FDA's
# getSudoLabel_multi.py. Not in the method's notebook.
_base_ = './deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
# The stage-2 PseudoLabelHook, with rounds.
custom_hooks = [
    dict(
        _base_.custom_hooks[0],
        interval=30000,
        round_settings=dict(grayscale=False, beta=None))
]
