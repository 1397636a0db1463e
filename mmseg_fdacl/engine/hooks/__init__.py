"""Hooks registered into MMSeg's HOOKS registry."""
from .atomic_checkpoint_hook import AtomicCheckpointHook
from .feature_grad_norm_hook import FeatureGradNormHook
from .mean_teacher_hook import MeanTeacherHook
from .pseudo_label_hook import PseudoLabelHook
from .rng_state_hook import RNGStateHook

__all__ = [
    'AtomicCheckpointHook', 'FeatureGradNormHook', 'MeanTeacherHook',
    'PseudoLabelHook', 'RNGStateHook'
]
