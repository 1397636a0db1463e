"""The method's cross-view pixel contrastive loss (zgerem/UDA).

The FDA + contrastive method (``contrastiveloss.py``,
``contrastive_labeled_new``) draws pixel positions at random, takes the
anchor view's embeddings there (the target image) and contrasts each with the
other view's embeddings at all drawn positions (the target in the source's
style). Pairs with one label are positives; the loss of a positive pair is
``-log(exp(s_ip) / (exp(s_ip) + sum_{n in N(i)} exp(s_in)))``, the
denominator holding only that positive and the negatives (as in
ContrastiveSeg, Wang et al., ICCV 2021), averaged over an anchor's positives
(its own position in the other view among them) and then over anchors.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .pixel_sampling import downsample_labels, sample_anchor_indices
from .sampled_upsample import upsample_normalize_at


def sample_positions(labels: Tensor,
                     num: int,
                     *,
                     ignore_index: int = 255,
                     ignore_as_class: bool = False) -> Tensor:
    """``num`` positions drawn uniformly with replacement (``torch.randint``).

    The method draws from every pixel, its pseudo labels having no ignored
    pixel (argmax labels); with thresholded labels ``ignore_as_class=False``
    draws only from labeled pixels.

    Args:
        labels (Tensor): ``M`` long labels of the candidate positions.
        num (int): Positions to draw.
        ignore_index (int): The ignored label. Default: 255.
        ignore_as_class (bool): Draw ignored pixels too and treat the ignore
            label as one more class (the reference code's literal
            behavior). Default: False.

    Returns:
        Tensor: ``num`` long indices into ``labels`` (empty if none is
        usable).
    """
    if ignore_as_class:
        pool = torch.arange(labels.numel(), device=labels.device)
    else:
        pool = (labels != ignore_index).nonzero(as_tuple=True)[0]
    if pool.numel() == 0:
        return pool
    pick = torch.randint(0, pool.numel(), (num, ), device=labels.device)
    return pool[pick]


def cross_view_contrast_loss(anchors: Tensor,
                             contrast: Tensor,
                             labels: Tensor,
                             *,
                             temperature: float = 0.07) -> Tensor:
    """Cross-view supervised contrast of ``A`` anchors against ``A`` others.

    Args:
        anchors (Tensor): ``A x D`` anchor-view embeddings (normalized here).
        contrast (Tensor): ``A x D`` other-view embeddings at the same
            positions (normalized here).
        labels (Tensor): ``A`` labels of the positions.
        temperature (float): Softmax temperature. Default: 0.07.

    Returns:
        Tensor: Scalar loss; ``0 * (sum of inputs)`` when ``A == 0``.
    """
    if anchors.shape != contrast.shape or anchors.dim() != 2:
        raise ValueError('cross_view_contrast_loss: anchors and contrast '
                         'must both be A x D, got '
                         f'{tuple(anchors.shape)} and {tuple(contrast.shape)}.')
    if anchors.shape[0] == 0:
        return anchors.sum() * 0 + contrast.sum() * 0
    if anchors.dtype not in (torch.float32, torch.float64):
        anchors, contrast = anchors.float(), contrast.float()
    a = F.normalize(anchors, dim=1)
    c = F.normalize(contrast, dim=1)
    logits = a @ c.t() / temperature
    # Shifting each row by its (detached) maximum leaves every ratio equal.
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    pos = labels[:, None] == labels[None, :]
    exp = logits.exp()
    neg_sum = exp.masked_fill(pos, 0.0).sum(dim=1, keepdim=True)
    log_prob = logits - torch.log(exp + neg_sum)
    mean_log_prob_pos = (log_prob.masked_fill(~pos, 0.0).sum(dim=1) /
                         pos.sum(dim=1))
    return -mean_log_prob_pos.mean()


def cross_view_pixel_contrast_loss(anchor_emb: Tensor,
                                   contrast_emb: Tensor,
                                   labels: Tensor,
                                   *,
                                   temperature: float = 0.07,
                                   max_samples: int = 2000,
                                   sampling: Optional[str] = 'uniform',
                                   max_views: int = 100,
                                   ignore_index: int = 255,
                                   ignore_as_class: bool = False,
                                   label_downsample: str = 'nearest',
                                   size: Optional[Tuple[int, int]] = None,
                                   align_corners: bool = False,
                                   normalize: bool = False) -> Tensor:
    """The method's loss on two ``N x D x h x w`` views of one label map.

    Args:
        anchor_emb (Tensor): Anchor view (the target image).
        contrast_emb (Tensor): The other view (target in source style).
        labels (Tensor): ``N x H x W`` labels, resized to ``h x w``.
        temperature (float): Default: 0.07.
        max_samples (int): Pixel positions drawn (each is one anchor and one
            contrast embedding). The method: 2000. Default: 2000.
        sampling (str | None): 'uniform' (the method's: with replacement),
            'balanced' (class-balanced positions, at most ``max_views`` per
            class, without replacement) or None (every labeled position).
        max_views (int): Per-class cap of 'balanced'. Default: 100.
        ignore_index (int): Default: 255.
        ignore_as_class (bool): See :func:`sample_positions` ('uniform'
            only). Default: False.
        label_downsample (str): 'nearest' or 'majority'. Default: 'nearest'.
        size (tuple[int, int], optional): Draw the positions on this
            ``H x W`` grid and take the views' embeddings there by bilinear
            interpolation (``F.interpolate``'s, :mod:`.sampled_upsample`):
            the loss of ``F.interpolate(emb, size, mode='bilinear',
            align_corners=align_corners)`` without upsampling the whole
            map. None: the views' own grid. Default: None.
        align_corners (bool): Of the interpolation. Default: False.
        normalize (bool): L2-normalize the (interpolated) embeddings first,
            as ``F.normalize(dim=1)`` of the whole map would. Default: False.

    Returns:
        Tensor: Scalar loss that keeps both views in the graph.
    """
    if anchor_emb.dim() != 4 or anchor_emb.shape != contrast_emb.shape:
        raise ValueError('PixelContrastLoss(form=cross_view): the two views '
                         'must be N x D x h x w of one shape, got '
                         f'{tuple(anchor_emb.shape)} and '
                         f'{tuple(contrast_emb.shape)}.')
    n, d, h, w = anchor_emb.shape
    if size is not None:
        h, w = (int(v) for v in size)
    lab = downsample_labels(
        labels.to(anchor_emb.device), (h, w), label_downsample, ignore_index)
    if lab.shape[0] != n:
        raise ValueError(f'PixelContrastLoss: labels batch {lab.shape[0]} '
                         f'does not match embeddings batch {n}.')
    flat_labels = lab.reshape(-1)
    if sampling == 'uniform':
        idx = sample_positions(
            flat_labels,
            max_samples,
            ignore_index=ignore_index,
            ignore_as_class=ignore_as_class)
    else:
        idx = sample_anchor_indices(
            flat_labels,
            sampling=sampling,
            max_samples=max_samples,
            max_views=max_views,
            ignore_index=ignore_index)
    keep = anchor_emb.sum() * 0 + contrast_emb.sum() * 0
    if idx.numel() == 0:
        return keep
    # Gather each distinct position once and repeat it with index_select:
    # the backward of advanced indexing with repeated indices accumulates
    # with parallel atomic adds on CPU (run-to-run differences).
    pos, inverse = torch.unique(idx, return_inverse=True)
    if size is None and not normalize:
        img, pix = pos // (h * w), pos % (h * w)
        anchors = anchor_emb.reshape(n, d, h * w)[img, :, pix]
        contrast = contrast_emb.reshape(n, d, h * w)[img, :, pix]
    else:
        # Interpolate and normalize only the drawn positions.
        anchors, contrast = (upsample_normalize_at(
            emb, pos, (h, w), align_corners=align_corners,
            normalize=normalize) for emb in (anchor_emb, contrast_emb))
    anchors = anchors.index_select(0, inverse)
    contrast = contrast.index_select(0, inverse)
    return cross_view_contrast_loss(
        anchors, contrast, flat_labels[idx],
        temperature=temperature) + keep
