"""Pixel-level SupCon (Khosla et al., "Supervised Contrastive Learning",
NeurIPS 2020, the L_out form, Eq. 2) over the pixels of one or more views.

Only the labels are handled at full size (cheap integer tensors); embeddings
are gathered at the sampled positions before any similarity is formed, so the
``A x A`` similarity matrix is bounded by ``max_samples``, whatever the image
size.
"""
from typing import List, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from .pixel_sampling import downsample_labels, sample_anchor_indices

TensorOrSeq = Union[torch.Tensor, Sequence[torch.Tensor]]


def _as_list(x: TensorOrSeq) -> List[torch.Tensor]:
    if isinstance(x, torch.Tensor):
        return [x]
    return list(x)



def supcon_loss(feats: torch.Tensor,
                labels: torch.Tensor,
                *,
                temperature: float = 0.07,
                base_temperature: Optional[float] = None) -> torch.Tensor:
    """SupCon L_out over ``A`` anchors that contrast with each other.

    ``loss_i = -(T / T_base) / |P(i)| * sum_{p in P(i)} log(exp(s_ip / T) /
    sum_{a != i} exp(s_ia / T))`` with ``P(i)`` the other anchors of the same
    label; the mean is over anchors with at least one positive.

    Args:
        feats (Tensor): ``A x D`` embeddings (normalized here).
        labels (Tensor): ``A`` labels, no ignored entries.
        temperature (float): T. Default: 0.07.
        base_temperature (float, optional): T_base; None means T (no
            rescaling). Default: None.

    Returns:
        Tensor: Scalar; ``feats.sum() * 0`` when fewer than two anchors or
        two classes, or no anchor has a positive.
    """
    if base_temperature is None:
        base_temperature = temperature
    zero = feats.sum() * 0
    if feats.shape[0] < 2 or torch.unique(labels).numel() < 2:
        return zero
    if feats.dtype not in (torch.float32, torch.float64):
        feats = feats.float()
    feats = F.normalize(feats, dim=1)
    # Only the denominator needs the A x A similarities. The positive term
    # sum_{p in P(i)} s_ip is f_i . (sum of the features of label l_i) minus
    # s_ii, so no A x A label mask or log-probability matrix is formed (the
    # profile of a stage-2 iteration showed those elementwise passes costing
    # more than the similarity GEMM itself).
    scaled = feats / temperature
    sim = scaled @ feats.t()
    # The diagonal is overwritten in place: nothing saved for backward
    # reads ``sim`` (the GEMM saves its inputs), and logsumexp gives the
    # -inf entries zero gradient.
    sim.diagonal().fill_(float('-inf'))
    log_denom = torch.logsumexp(sim, dim=1)
    classes, inverse, counts = torch.unique(
        labels, return_inverse=True, return_counts=True)
    num_pos = counts[inverse] - 1
    has_pos = num_pos > 0
    if not bool(has_pos.any()):
        return zero
    class_sum = feats.new_zeros((classes.numel(), feats.shape[1]))
    class_sum = class_sum.index_add(0, inverse, feats)
    # index_select, not class_sum[inverse]: the latter's backward is
    # index_put_(accumulate=True), parallel atomic adds on CPU with more
    # than one thread, so runs would differ in the last bits.
    pos_sim = (scaled *
               (class_sum.index_select(0, inverse) - feats)).sum(dim=1)
    mean_log_prob_pos = (pos_sim[has_pos] / num_pos[has_pos] -
                         log_denom[has_pos])
    return -(temperature / base_temperature) * mean_log_prob_pos.mean()



# Long only by its docstring (the option reference of the SupCon form); the
# body is about 50 lines, the checks and candidate building are helpers below.
def pixel_contrast_loss(embeddings: TensorOrSeq,
                        labels: TensorOrSeq,
                        preds: Optional[TensorOrSeq] = None,
                        *,
                        temperature: float = 0.07,
                        base_temperature: Optional[float] = None,
                        max_samples: int = 1024,
                        max_views: int = 100,
                        sampling: Optional[str] = 'balanced',
                        hard_ratio: float = 0.5,
                        ignore_index: int = 255,
                        label_downsample: str = 'nearest') -> torch.Tensor:
    """Supervised contrastive loss over the pixels of one or more views.

    Views are e.g. the target image and its source-stylized copy. Positives
    of an anchor are all sampled pixels with its label, in its own view and
    in the others; the anchor itself is never its own positive.

    When every view has the same grid and one label map is given (the usual
    two-view case), pixel *positions* are sampled once and every view
    contributes its embedding there, so the same pixel in the other view is
    always among the positives (as in the method's original, which samples
    one index set for both views). With one label map per view, each view's
    pixels are candidates of their own. Either way ``max_samples`` and
    ``max_views`` count anchors over all views.

    Args:
        embeddings (Tensor | Sequence[Tensor]): Each ``N x D x h x w``.
        labels (Tensor | Sequence[Tensor]): Each ``N x H x W`` long; resized
            to its view's ``h x w`` with ``label_downsample``. One tensor is
            shared by all views.
        preds (Tensor | Sequence[Tensor], optional): Each ``N x h x w``
            predicted labels, one per view or one per label map; pixels
            where a prediction differs from the label are "hard" (with a
            shared label map: where any view's prediction differs).
            Default: None.
        temperature, base_temperature: See :func:`supcon_loss`.
        max_samples, max_views, sampling, hard_ratio, ignore_index: See
            :class:`PixelContrastLoss`.
        label_downsample (str): 'nearest' or 'majority'.

    Returns:
        Tensor: Scalar; a zero that keeps the graph when nothing is usable.
    """
    embs = _as_list(embeddings)
    labs = _as_list(labels)
    prds = _check_views(embs, labs, preds)
    shared = len(labs) == 1
    # Anchors per candidate: a shared candidate position yields one anchor
    # per view.
    group = len(embs) if shared else 1
    grids = [embs[0]] if shared else embs
    cand_labels, flat_hard = _candidates(grids, labs, prds, label_downsample,
                                         ignore_index)
    flat_labels = torch.cat(cand_labels)
    flat_src = torch.cat([
        torch.full((lab.numel(), ), i, dtype=torch.long, device=lab.device)
        for i, lab in enumerate(cand_labels)
    ])
    offsets = [0]
    for lab in cand_labels[:-1]:
        offsets.append(offsets[-1] + lab.numel())
    offsets = torch.tensor(offsets, device=flat_labels.device)

    idx = sample_anchor_indices(
        flat_labels,
        flat_hard,
        sampling=sampling,
        max_samples=max(1, max_samples // group),
        max_views=max(1, max_views // group),
        hard_ratio=hard_ratio,
        ignore_index=ignore_index)
    if idx.numel() == 0:
        return sum(e.sum() for e in embs) * 0
    src = flat_src[idx]
    local = idx - offsets[src]

    feats, anchor_labels = [], []
    for i, emb in enumerate(embs):
        grid = 0 if shared else i
        sel = local[src == grid]
        if sel.numel() == 0:
            continue
        n, d, h, w = emb.shape
        # Gather K x D from the (contiguous-view) N x D x (h*w) tensor
        # without copying the whole embedding map.
        flat = emb.reshape(n, d, h * w)
        feats.append(flat[sel // (h * w), :, sel % (h * w)])
        anchor_labels.append(cand_labels[grid][sel])
    feats = torch.cat(feats)
    anchor_labels = torch.cat(anchor_labels)
    loss = supcon_loss(
        feats,
        anchor_labels,
        temperature=temperature,
        base_temperature=base_temperature)
    if feats.shape[0] < 2 or torch.unique(anchor_labels).numel() < 2:
        # Keep every view in the graph, so DDP sees all parameters used.
        loss = loss + sum(e.sum() for e in embs) * 0
    return loss


def _check_views(embs: List[torch.Tensor], labs: List[torch.Tensor],
                 preds: Optional[TensorOrSeq]
                 ) -> Optional[List[List[torch.Tensor]]]:
    """Validate views, label maps and predictions; group the predictions.

    Returns:
        list[list[Tensor]] | None: Per candidate grid, the prediction maps
        that mark its hard pixels (with one shared label map: all of them).
    """
    if len(embs) == 0:
        raise ValueError('PixelContrastLoss: `embeddings` is empty.')
    for e in embs:
        if e.dim() != 4:
            raise ValueError('PixelContrastLoss: each embedding must be '
                             f'N x D x h x w, got shape {tuple(e.shape)}.')
    if any(e.shape != embs[0].shape for e in embs):
        if len(labs) == 1:
            raise ValueError(
                'PixelContrastLoss: views of different shapes '
                f'{[tuple(e.shape) for e in embs]} need one label map per '
                'view.')
        if any(e.shape[1] != embs[0].shape[1] for e in embs):
            raise ValueError('PixelContrastLoss: all views need the same '
                             'embedding dim D, got '
                             f'{[e.shape[1] for e in embs]}.')
    if len(labs) not in (1, len(embs)):
        raise ValueError(
            f'PixelContrastLoss: got {len(labs)} label maps for {len(embs)} '
            'views; pass one shared map or one per view.')
    if preds is None:
        return None
    prds = _as_list(preds)
    if len(prds) not in (len(labs), len(embs)):
        raise ValueError(
            f'PixelContrastLoss: got {len(prds)} prediction maps for '
            f'{len(embs)} views and {len(labs)} label maps; pass one per '
            'view or one per label map.')
    if len(labs) == 1:
        # One shared label map: a position is hard when any view's
        # prediction disagrees with its label.
        return [prds]
    return [[p] for p in prds]


def _candidates(grids: List[torch.Tensor], labs: List[torch.Tensor],
                prds: Optional[List[List[torch.Tensor]]],
                label_downsample: str, ignore_index: int):
    """Flat labels of every grid's pixels and, with predictions, hardness.

    Returns:
        tuple: ``(labels, hard)``: one flat long label tensor per grid, and
        the concatenated bool "prediction disagrees" mask (or None).
    """
    cand_labels, cand_hard = [], []
    for i, (emb, lab) in enumerate(zip(grids, labs)):
        n, _, h, w = emb.shape
        lab = downsample_labels(
            lab.to(emb.device), (h, w), label_downsample, ignore_index)
        if lab.shape[0] != n:
            raise ValueError(
                f'PixelContrastLoss: labels batch {lab.shape[0]} does not '
                f'match embeddings batch {n}.')
        cand_labels.append(lab.reshape(-1))
        if prds is None:
            continue
        hard = torch.zeros_like(cand_labels[-1], dtype=torch.bool)
        for prd in prds[i]:
            prd = prd.to(emb.device)
            if prd.dim() == 4 and prd.shape[1] == 1:
                prd = prd[:, 0]
            if prd.shape[-2:] != (h, w):
                prd = downsample_labels(prd, (h, w), 'nearest', ignore_index)
            hard |= prd.reshape(-1).long() != cand_labels[-1]
        cand_hard.append(hard)
    return cand_labels, (torch.cat(cand_hard) if prds is not None else None)
