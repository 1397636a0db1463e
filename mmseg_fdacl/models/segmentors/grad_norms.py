"""Gradient norm of each loss term at the features the terms share.

The terms of a UDA iteration are summed before the backward pass, so the
log shows their values but not how hard each one pushes the network: a term
of value 5 may move the features less than one of value 0.8. The norm
``||d term / d features||`` (over every backbone/neck output of every view,
i.e. where the terms meet) measures that push, per term, with
``torch.autograd.grad`` on the retained graph. It costs one partial
backward per term, so the segmentor computes it only when asked
(:class:`~mmseg_fdacl.engine.hooks.FeatureGradNormHook` asks on logging
iterations).
"""
from typing import Dict, Sequence

import torch
from torch import Tensor

#: Prefix of the logged norms (``gnorm_cl`` for ``loss_cl``); without
#: "loss" (mmengine would add it to the total) and without "grad_norm"
#: (mmengine's log processor would average it over its window instead of
#: printing the value of the logging iteration).
PREFIX = 'gnorm_'


def norm_key(loss_key: str) -> str:
    """``loss_cl`` -> ``gnorm_cl``, ``aux.loss_ce_src`` ->
    ``aux.gnorm_ce_src``."""
    return loss_key.replace('loss_', PREFIX, 1)


def feature_grad_norms(losses: Dict[str, Tensor],
                       features: Sequence[Tensor]) -> Dict[str, Tensor]:
    """The L2 norm of each loss term's gradient w.r.t. ``features``.

    Args:
        losses (dict[str, Tensor]): The segmentor's outputs; the terms are
            the scalar entries whose key contains ``loss`` and that have a
            graph (constant zeros of a term not yet switched on are left
            out).
        features (Sequence[Tensor]): The shared features (backbone/neck
            outputs of each view).

    Returns:
        dict[str, Tensor]: :func:`norm_key` -> detached scalar norm; 0 for a
        term that does not reach the features.
    """
    features = [f for f in features if f.requires_grad]
    out = {}
    for key, value in losses.items():
        if 'loss' not in key or not isinstance(value, Tensor) or (
                not value.requires_grad) or not features:
            continue
        grads = torch.autograd.grad(
            value, features, retain_graph=True, allow_unused=True)
        sq = sum((g.detach().float().pow(2).sum()
                  for g in grads if g is not None), value.new_zeros(()))
        out[norm_key(key)] = sq.sqrt()
    return out
