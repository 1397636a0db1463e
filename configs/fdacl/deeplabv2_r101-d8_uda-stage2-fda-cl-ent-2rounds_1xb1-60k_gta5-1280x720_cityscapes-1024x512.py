# Stage 2 with self-training rounds, as FDA's self-supervised training (two
# rounds): the stage-1 checkpoint labels round 0; at iteration 30k the
# current weights are saved to <work_dir>/pseudo_labels/round_1.pth and
# relabel the target set (round_1/), which trains the rest. A resumed run
# labels with the round's saved weights. Not in the method's notebook.
_base_ = './deeplabv2_r101-d8_uda-stage2-fda-cl-ent_1xb1-60k_gta5-1280x720_cityscapes-1024x512.py'
custom_imports = dict(imports=['mmseg_fdacl'], allow_failed_imports=False)
default_scope = 'mmseg'
# The stage-2 PseudoLabelHook, with rounds.
custom_hooks = [dict(_base_.custom_hooks[0], interval=30000)]
