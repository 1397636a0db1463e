"""The teacher's online pseudo labels: its forward, their weights, FDA's
per-class thresholds.

DACS (Tranheden et al., WACV 2021) and DAFormer (Hoyer et al., CVPR 2022,
``mmseg/models/uda/dacs.py``): the label is the teacher's most probable
class, the weight the share of pixels (over the batch) more confident than
the threshold; rows at the top and bottom (DAFormer) or a loader's validity
mask (HRDA's pseudo-label margins) get weight 0.
"""
import contextlib
from typing import Iterator, Optional, Sequence

import torch
from mmengine.dist import all_reduce, get_dist_info
from mmseg.utils import SampleList
from torch import Tensor, nn

from ...datasets.label_ids import IGNORE_INDEX
from ...pseudo_labels.thresholds import thresholds_from_histograms
from ..utils.checks import check_option_dict

__all__ = ['teacher_mode', 'quality_weight', 'apply_class_thresholds',
           'class_threshold_config', 'loader_pseudo_mask']

_THRESHOLD_KEYS = ('percentile', 'cap', 'num_bins', 'decay')


@contextlib.contextmanager
def teacher_mode(teacher: nn.Module, train: bool) -> Iterator[nn.Module]:
    """Run ``teacher`` in train mode (BatchNorm on batch statistics, as
    DAFormer) or eval mode, dropout off either way; the modes of its
    modules are restored afterwards."""
    modes = [(m, m.training) for m in teacher.modules()]
    teacher.train(train)
    for module in teacher.modules():
        if isinstance(module, nn.modules.dropout._DropoutNd):
            module.training = False
    try:
        yield teacher
    finally:
        for module, mode in modes:
            module.training = mode


def quality_weight(conf: Tensor, threshold: Optional[float], ignore_top: int,
                   ignore_bottom: int) -> tuple:
    """DAFormer's pseudo-label weight.

    Args:
        conf (Tensor): ``N x H x W`` confidence of the pseudo labels.
        threshold (float, optional): tau; None weighs every pixel 1.
        ignore_top (int): Rows at the top with weight 0.
        ignore_bottom (int): Rows at the bottom with weight 0.

    Returns:
        tuple[Tensor]: ``weight`` (``N x H x W``) and ``quality`` (the
        scalar share of pixels of the batch with ``conf >= threshold``).
    """
    if threshold is None:
        quality = conf.new_ones(())
    else:
        # DAFormer: the share over every pixel of the batch.
        quality = (conf >= threshold).float().mean()
    weight = quality.expand_as(conf).clone()
    if ignore_top:
        weight[:, :ignore_top] = 0
    if ignore_bottom:
        weight[:, weight.shape[1] - ignore_bottom:] = 0
    return weight, quality


def class_threshold_config(owner: str, cfg: dict) -> dict:
    """``class_thresholds`` with FDA's defaults (``percentile`` 0.66,
    ``cap`` 0.9, ``num_bins`` 1000, ``decay`` 0.99), checked."""
    out = dict(percentile=0.66, cap=0.9, num_bins=1000, decay=0.99)
    out.update(check_option_dict(owner, 'class_thresholds', cfg,
                                 _THRESHOLD_KEYS))
    if not 0.0 < out['decay'] <= 1.0:
        raise ValueError(f'{owner}: class_thresholds.decay must be in (0, 1], '
                         f"got {out['decay']!r}.")
    return out


def apply_class_thresholds(conf: Tensor, labels: Tensor, valid: Tensor,
                           hist: Tensor, cfg: dict,
                           num_classes: int) -> Tensor:
    """FDA's per-class thresholds online: this batch's confidences (all
    ranks summed) are added to the running histogram ``hist`` (decayed by
    ``cfg['decay']``, in place); pixels below their class' threshold become
    ``IGNORE_INDEX``."""
    bins = int(cfg['num_bins'])
    idx = (labels[valid] * bins +
           (conf[valid] * bins).long().clamp(0, bins - 1))
    counts = torch.bincount(
        idx, minlength=num_classes * bins).view(num_classes,
                                                bins).to(torch.float64)
    _, world_size = get_dist_info()
    if world_size > 1:
        all_reduce(counts, op='sum')
    hist.mul_(cfg['decay']).add_(counts)
    thresholds = torch.from_numpy(
        thresholds_from_histograms(hist.cpu().numpy(), cfg['percentile'],
                                   cfg['cap'])).to(conf)
    return labels.masked_fill(conf < thresholds[labels], IGNORE_INDEX)


def loader_pseudo_mask(samples: SampleList,
                       size: Sequence[int]) -> Optional[Tensor]:
    """The samples' ``valid_pseudo_mask`` (HRDA's pseudo-label margins, cut
    by the loader before the crop), ``N x H x W`` float, 0 on padding; None
    when no sample has one.

    Raises:
        ValueError: When only some samples have one.
    """
    have = ['valid_pseudo_mask' in s for s in samples]
    if not any(have):
        return None
    if not all(have):
        raise ValueError(
            'loader_pseudo_mask: only some target samples carry a '
            'valid_pseudo_mask; put PseudoLabelMargins in the target '
            'pipeline of every target dataset.')
    h, w = int(size[0]), int(size[1])
    out = []
    for sample in samples:
        mask = sample.valid_pseudo_mask.data.reshape(
            sample.valid_pseudo_mask.data.shape[-2:]).float()
        mh, mw = min(h, mask.shape[0]), min(w, mask.shape[1])
        full = mask.new_zeros((h, w))
        full[:mh, :mw] = mask[:mh, :mw]
        out.append(full)
    return torch.stack(out)
