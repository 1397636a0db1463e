"""The per-pixel weighted cross-entropy of online self-training.

DACS (Tranheden et al., WACV 2021) and DAFormer (Hoyer et al., CVPR 2022)
weigh each pixel of the pseudo-labelled (or mixed) image by its quality
weight through MMSeg 0.x's ``CrossEntropyLoss(seg_weight=...)``: the mean
over every pixel, ignored ones counting as 0.
"""
import torch.nn.functional as F
from mmseg.models.utils import resize
from torch import Tensor

from ...datasets.label_ids import IGNORE_INDEX

__all__ = ['pixel_weighted_ce']


def pixel_weighted_ce(logits: Tensor,
                      labels: Tensor,
                      weight: Tensor,
                      align_corners: bool,
                      ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Cross-entropy per pixel times its weight, averaged over all pixels.

    DACS' and DAFormer's self-training loss (MMSeg 0.x ``CrossEntropyLoss``
    with ``seg_weight``: the mean over every pixel, ignored ones counting as
    0); logits are bilinearly resized to the labels first.

    Args:
        logits (Tensor): ``N x C x h x w`` class scores.
        labels (Tensor): ``N x H x W`` long labels, ``ignore_index`` ignored.
        weight (Tensor): ``N x H x W`` per-pixel weights.
        align_corners (bool): Of the resize (the decode head's).
        ignore_index (int): Label ignored. Default: 255.

    Returns:
        Tensor: The scalar loss.
    """
    logits = resize(
        logits,
        size=labels.shape[1:],
        mode='bilinear',
        align_corners=align_corners)
    ce = F.cross_entropy(
        logits, labels, ignore_index=ignore_index, reduction='none')
    return (ce * weight).mean()
