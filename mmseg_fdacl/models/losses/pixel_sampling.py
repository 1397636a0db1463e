"""Pixel sampling for contrastive losses: label resizing and anchor draws.

Class-balanced anchor sampling with a hard/easy split follows the idea of Wang
et al., "Exploring Cross-Image Pixel Contrast for Semantic Segmentation", ICCV
2021; 'uniform' draws a fixed number of random pixels (the method's own).
Randomness comes from torch's global RNG, so runs are reproducible under
mmengine's ``randomness.seed``.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F

SAMPLING_MODES = ('balanced', 'uniform', None)
DOWNSAMPLE_MODES = ('nearest', 'majority')


def downsample_labels(labels: torch.Tensor,
                      size: Tuple[int, int],
                      mode: str = 'nearest',
                      ignore_index: int = 255) -> torch.Tensor:
    """Resize an ``N x H x W`` label map to ``size`` without interpolating ids.

    Args:
        labels (Tensor): ``N x H x W`` (or ``N x 1 x H x W``) integer labels.
        size (tuple[int, int]): Target ``(h, w)``.
        mode (str): 'nearest' picks the pixel ``floor(i * H / h)`` (what
            ``F.interpolate(mode='nearest')`` picks) and touches only ``h*w``
            entries. 'majority' takes, in each cell, the most frequent label
            among non-ignored pixels (lowest id on ties; cells with no valid
            pixel become ``ignore_index``); it costs ``O(H*W)`` per class.
        ignore_index (int): Label that never wins a vote. Default: 255.

    Returns:
        Tensor: ``N x h x w`` long labels.
    """
    if labels.dim() == 4 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.dim() != 3:
        raise ValueError('PixelContrastLoss: labels must be N x H x W, got '
                         f'shape {tuple(labels.shape)}.')
    if mode not in DOWNSAMPLE_MODES:
        raise ValueError(f'PixelContrastLoss: `label_downsample` must be one '
                         f'of {DOWNSAMPLE_MODES}, got {mode!r}.')
    n, big_h, big_w = labels.shape
    h, w = size
    if (big_h, big_w) == (h, w):
        return labels.long()
    if mode == 'nearest':
        dev = labels.device
        rows = (torch.arange(h, device=dev, dtype=torch.float64) *
                (big_h / h)).floor().long().clamp_(max=big_h - 1)
        cols = (torch.arange(w, device=dev, dtype=torch.float64) *
                (big_w / w)).floor().long().clamp_(max=big_w - 1)
        return labels[:, rows][:, :, cols].long()
    classes = torch.unique(labels)
    classes = classes[classes != ignore_index]
    best_frac = labels.new_zeros((n, h, w), dtype=torch.float32)
    out = labels.new_full((n, h, w), ignore_index, dtype=torch.long)
    for c in classes.tolist():
        frac = F.adaptive_avg_pool2d((labels == c).float()[:, None],
                                     (h, w))[:, 0]
        better = frac > best_frac
        out[better] = c
        best_frac = torch.where(better, frac, best_frac)
    return out



def _take(idx: torch.Tensor, k: int) -> torch.Tensor:
    """``k`` elements of ``idx`` drawn without replacement (torch's RNG)."""
    if k >= idx.numel():
        return idx
    perm = torch.randperm(idx.numel(), device=idx.device)[:k]
    return idx[perm]



def sample_anchor_indices(labels: torch.Tensor,
                          hard: Optional[torch.Tensor] = None,
                          *,
                          sampling: Optional[str] = 'balanced',
                          max_samples: int = 1024,
                          max_views: int = 100,
                          hard_ratio: float = 0.5,
                          ignore_index: int = 255) -> torch.Tensor:
    """Pick candidate pixels for the contrastive loss.

    Randomness comes from torch's global RNG (``torch.randperm``), so runs
    are reproducible under mmengine's ``randomness.seed``.

    Args:
        labels (Tensor): ``M`` long labels of the candidates.
        hard (Tensor, optional): ``M`` bool, True where the prediction
            disagrees with the label. Default: None (no hard/easy split).
        sampling (str | None): 'balanced', 'uniform' or None (all valid).
        max_samples (int): Most candidates returned in total.
        max_views (int): Most candidates per class ('balanced').
        hard_ratio (float): Target fraction of hard candidates per class
            ('balanced' with ``hard``); made up from the other kind when one
            kind runs short.
        ignore_index (int): Label never returned.

    Returns:
        Tensor: Long indices into ``labels``, never of an ignored candidate.
    """
    valid = labels != ignore_index
    valid_idx = valid.nonzero(as_tuple=True)[0]
    if sampling is None:
        return valid_idx
    if sampling == 'uniform':
        return _take(valid_idx, max_samples)
    valid_labels = labels[valid_idx]
    classes = torch.unique(valid_labels)
    if classes.numel() == 0:
        return valid_idx
    # Every present class gets the same quota; rarer classes give what they
    # have (at most max_views each, at most max_samples altogether).
    quota = max(1, min(max_views, max_samples // classes.numel()))
    valid_hard = hard[valid_idx] if hard is not None else None
    picked = []
    for c in classes.tolist():
        in_class = valid_labels == c
        if valid_hard is None:
            picked.append(_take(valid_idx[in_class], quota))
            continue
        hard_idx = valid_idx[in_class & valid_hard]
        easy_idx = valid_idx[in_class & ~valid_hard]
        n_c = min(quota, hard_idx.numel() + easy_idx.numel())
        n_hard = min(hard_idx.numel(),
                     max(round(n_c * hard_ratio), n_c - easy_idx.numel()))
        picked.append(_take(hard_idx, n_hard))
        picked.append(_take(easy_idx, n_c - n_hard))
    return _take(torch.cat(picked), max_samples)
