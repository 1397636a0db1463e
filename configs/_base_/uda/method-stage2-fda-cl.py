# The stage-2 method without data (zgerem/UDA training_contrastive.ipynb):
# cross-entropy on the source in target style (FDA, beta 0.09) + entropy on
# the target + 1.0 x the cross-view pixel contrastive loss between each
# target image (anchors) and its source-styled copy (FDA target->source),
# positives from the stage-1 pseudo labels (method-contrast.py). Entropy and
# contrast switch on at iteration 50k.
# PseudoLabelHook makes the pseudo labels before training, from the stage-1
# checkpoint named by the config variable `stage1_checkpoint` (each leaf sets
# its stage-1 work_dir; --cfg-options stage1_checkpoint=PATH for another), as
# the method: the grayscale stage-1 model on target images stylized to the
# source (FDA beta 0.01), FDA's per-class thresholds. They go to
# <work_dir>/pseudo_labels and are reused when complete for the same
# checkpoint and settings (a folder made otherwise is refused). The
# benchmark fragments (stage2-fda-cl.py for GTA5 -> Cityscapes) add the data
# with pseudo labels and the preprocessor's size.
_base_ = ['./source-ce-entropy.py', './method-contrast.py']
uda_model = dict(
    data_preprocessor=dict(
        fda=dict(beta=0.09, source_to_target=True, target_to_source=True)),
    **_base_.method_contrast,
    warmup_iters=50000)
custom_hooks = [
    dict(
        type='PseudoLabelHook',
        checkpoints_key='stage1_checkpoint',
        beta=0.01,
        grayscale=True,
        percentile=0.66,
        cap=0.9)
]
