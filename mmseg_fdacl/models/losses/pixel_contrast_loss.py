"""Pixel-level supervised contrastive loss with bounded, class-balanced sampling.

Two forms: ``form='cross_view'`` is the FDA + contrastive method's own loss
(see :mod:`.cross_view_contrast`); ``form='supcon'`` is described below.

Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020 (the L_out form,
Eq. 2), applied to pixel embeddings. Class-balanced anchor sampling with a
hard/easy split follows the idea of Wang et al., "Exploring Cross-Image Pixel
Contrast for Semantic Segmentation", ICCV 2021; the 'uniform' sampling (a fixed
number of random pixels, no balancing) is the FDA+contrastive method's own.

Only the labels are handled at full size (cheap integer tensors); embeddings
are gathered at the sampled positions before any similarity is formed, so the
``A x A`` similarity matrix is bounded by ``max_samples``, whatever the image
size.
"""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS

from .cross_view_contrast import cross_view_pixel_contrast_loss

TensorOrSeq = Union[torch.Tensor, Sequence[torch.Tensor]]

SAMPLING_MODES = ('balanced', 'uniform', None)
DOWNSAMPLE_MODES = ('nearest', 'majority')
FORMS = ('supcon', 'cross_view')


def _as_list(x: TensorOrSeq) -> List[torch.Tensor]:
    if isinstance(x, torch.Tensor):
        return [x]
    return list(x)


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
        feats (Tensor): ``A x D`` embeddings (normalised here).
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
    pos_sim = (scaled * (class_sum[inverse] - feats)).sum(dim=1)
    mean_log_prob_pos = (pos_sim[has_pos] / num_pos[has_pos] -
                         log_denom[has_pos])
    return -(temperature / base_temperature) * mean_log_prob_pos.mean()


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

    Views are e.g. the target image and its source-stylised copy. Positives
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
    shared = len(labs) == 1
    prds = _as_list(preds) if preds is not None else None
    if prds is not None and len(prds) not in (len(labs), len(embs)):
        raise ValueError(
            f'PixelContrastLoss: got {len(prds)} prediction maps for '
            f'{len(embs)} views and {len(labs)} label maps; pass one per '
            'view or one per label map.')
    if prds is not None and shared:
        # One shared label map: a position is hard when any view's
        # prediction disagrees with its label.
        prds = [prds]
    elif prds is not None:
        prds = [[p] for p in prds]
    # Anchors per candidate: a shared candidate position yields one anchor
    # per view.
    group = len(embs) if shared else 1
    grids = [embs[0]] if shared else embs

    cand_labels, cand_hard, cand_src = [], [], []
    for i, (emb, lab) in enumerate(zip(grids, labs)):
        n, _, h, w = emb.shape
        lab = downsample_labels(
            lab.to(emb.device), (h, w), label_downsample, ignore_index)
        if lab.shape[0] != n:
            raise ValueError(
                f'PixelContrastLoss: labels batch {lab.shape[0]} does not '
                f'match embeddings batch {n}.')
        cand_labels.append(lab.reshape(-1))
        if prds is not None:
            hard = torch.zeros_like(cand_labels[-1], dtype=torch.bool)
            for prd in prds[i]:
                prd = prd.to(emb.device)
                if prd.dim() == 4 and prd.shape[1] == 1:
                    prd = prd[:, 0]
                if prd.shape[-2:] != (h, w):
                    prd = downsample_labels(prd, (h, w), 'nearest',
                                            ignore_index)
                hard |= prd.reshape(-1).long() != cand_labels[-1]
            cand_hard.append(hard)
        cand_src.append(torch.full((n * h * w, ), i, dtype=torch.long,
                                   device=emb.device))
    flat_labels = torch.cat(cand_labels)
    flat_hard = torch.cat(cand_hard) if prds is not None else None
    flat_src = torch.cat(cand_src)
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


def _check_pos_int(name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f'PixelContrastLoss: `{name}` must be an int >= 1, '
                         f'got {value!r}.')
    return value


@MODELS.register_module()
class PixelContrastLoss(nn.Module):
    """Pixel-level supervised contrastive loss.

    Args:
        form (str): ``'cross_view'``: the method's loss (zgerem/UDA
            ``contrastive_labeled_new``): anchors from the first view only,
            contrasted with the second view at the same drawn positions,
            denominator = the positive + the negatives; ``max_samples``
            counts pixel positions. ``'supcon'``: SupCon L_out (Khosla et
            al. 2020) over the anchors of all views, same- and cross-view
            positives, every other anchor in the denominator;
            ``max_samples`` counts anchors over all views. Default: 'supcon'
            (the method's configs set 'cross_view').
        ignore_as_class (bool): ``form='cross_view'`` with 'uniform'
            sampling: draw ignored pixels too and treat the ignore label as a
            class (the reference code does not mask it; its argmax pseudo
            labels have no ignored pixel). Default: False.
        temperature (float): Softmax temperature; 0.07 in the method, 0.1 in
            ContrastiveSeg. Default: 0.07.
        base_temperature (float, optional): SupCon's ``base_temperature``;
            the loss is scaled by ``temperature / base_temperature``. None
            means no scaling. Default: None.
        max_samples (int): Most anchors in total, over all views. The method
            uses 2000 with 'uniform'. Default: 1024.
        max_views (int): Most anchors per class ('balanced'). Default: 100.
        sampling (str | None): 'balanced' (class-balanced, optional hard/easy
            split), 'uniform' (the method's: ``max_samples`` random valid
            pixels) or None (every valid pixel; an all-pixels matrix, for
            tests and small inputs only). Default: 'balanced'.
        hard_ratio (float): Fraction of each class's anchors taken where
            ``preds`` disagree with the label, in [0, 1]. Default: 0.5.
        ignore_index (int): Label that is never an anchor, positive or
            negative. Default: 255.
        label_downsample (str): 'nearest' or 'majority'. Default: 'nearest'.
        loss_weight (float): Weight of the loss. Default: 1.0.
        loss_name (str): Key in the loss dict. Default: 'loss_cl'.
    """

    def __init__(self,
                 *,
                 form: str = 'supcon',
                 ignore_as_class: bool = False,
                 temperature: float = 0.07,
                 base_temperature: Optional[float] = None,
                 max_samples: int = 1024,
                 max_views: int = 100,
                 sampling: Optional[str] = 'balanced',
                 hard_ratio: float = 0.5,
                 ignore_index: int = 255,
                 label_downsample: str = 'nearest',
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_cl') -> None:
        super().__init__()
        for name, value in (('temperature', temperature),
                            ('base_temperature', base_temperature)):
            if name == 'base_temperature' and value is None:
                continue
            if (not isinstance(value, (int, float)) or isinstance(value, bool)
                    or value <= 0):
                raise ValueError(f'PixelContrastLoss: `{name}` must be a '
                                 f'number > 0, got {value!r}.')
        if form not in FORMS:
            raise ValueError(f'PixelContrastLoss: `form` must be one of '
                             f'{FORMS}, got {form!r}.')
        if not isinstance(ignore_as_class, bool):
            raise ValueError('PixelContrastLoss: `ignore_as_class` must be a '
                             f'bool, got {ignore_as_class!r}.')
        if ignore_as_class and (form != 'cross_view' or sampling != 'uniform'):
            raise ValueError(
                'PixelContrastLoss: `ignore_as_class=True` is the cross-view '
                "form's uniform draw; set form='cross_view', "
                "sampling='uniform' or ignore_as_class=False.")
        self.form = form
        self.ignore_as_class = ignore_as_class
        self.max_samples = _check_pos_int('max_samples', max_samples)
        self.max_views = _check_pos_int('max_views', max_views)
        if sampling not in SAMPLING_MODES:
            raise ValueError('PixelContrastLoss: `sampling` must be one of '
                             f'{SAMPLING_MODES}, got {sampling!r}.')
        if (not isinstance(hard_ratio, (int, float))
                or isinstance(hard_ratio, bool)
                or not 0.0 <= hard_ratio <= 1.0):
            raise ValueError('PixelContrastLoss: `hard_ratio` must be in '
                             f'[0, 1], got {hard_ratio!r}.')
        if not isinstance(ignore_index, int) or isinstance(ignore_index, bool):
            raise ValueError('PixelContrastLoss: `ignore_index` must be an '
                             f'int, got {ignore_index!r}.')
        if label_downsample not in DOWNSAMPLE_MODES:
            raise ValueError('PixelContrastLoss: `label_downsample` must be '
                             f'one of {DOWNSAMPLE_MODES}, got '
                             f'{label_downsample!r}.')
        if (not isinstance(loss_weight, (int, float))
                or isinstance(loss_weight, bool) or loss_weight < 0):
            raise ValueError('PixelContrastLoss: `loss_weight` must be a '
                             f'number >= 0, got {loss_weight!r}.')
        if not isinstance(loss_name, str) or not loss_name.startswith('loss_'):
            raise ValueError('PixelContrastLoss: `loss_name` must be a str '
                             "starting with 'loss_', got "
                             f'{loss_name!r}.')
        self.temperature = float(temperature)
        self.base_temperature = (None if base_temperature is None else
                                 float(base_temperature))
        self.sampling = sampling
        self.hard_ratio = float(hard_ratio)
        self.ignore_index = ignore_index
        self.label_downsample = label_downsample
        self.loss_weight = float(loss_weight)
        self._loss_name = loss_name

    def forward(self,
                embeddings: TensorOrSeq,
                labels: TensorOrSeq,
                preds: Optional[TensorOrSeq] = None,
                **kwargs) -> torch.Tensor:
        """Weighted contrastive loss; see :func:`pixel_contrast_loss`.

        ``ignore_index`` in ``kwargs`` (as :class:`BaseDecodeHead` passes it)
        overrides the configured one; other keyword arguments are ignored.
        """
        ignore_index = kwargs.get('ignore_index', self.ignore_index)
        if ignore_index is None:
            ignore_index = self.ignore_index
        if self.form == 'cross_view':
            embs, labs = _as_list(embeddings), _as_list(labels)
            if len(embs) != 2 or len(labs) != 1:
                raise ValueError(
                    "PixelContrastLoss(form='cross_view') takes two views "
                    '(anchor, contrast) and one label map, got '
                    f'{len(embs)} views and {len(labs)} label maps.')
            return self.loss_weight * cross_view_pixel_contrast_loss(
                embs[0],
                embs[1],
                labs[0],
                temperature=self.temperature,
                max_samples=self.max_samples,
                sampling=self.sampling,
                max_views=self.max_views,
                ignore_index=ignore_index,
                ignore_as_class=self.ignore_as_class,
                label_downsample=self.label_downsample)
        return self.loss_weight * pixel_contrast_loss(
            embeddings,
            labels,
            preds,
            temperature=self.temperature,
            base_temperature=self.base_temperature,
            max_samples=self.max_samples,
            max_views=self.max_views,
            sampling=self.sampling,
            hard_ratio=self.hard_ratio,
            ignore_index=ignore_index,
            label_downsample=self.label_downsample)

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the loss dict."""
        return self._loss_name

    def extra_repr(self) -> str:
        return (f'form={self.form!r}, temperature={self.temperature}, '
                f'sampling={self.sampling!r}, '
                f'max_samples={self.max_samples}, '
                f'max_views={self.max_views}, hard_ratio={self.hard_ratio}, '
                f'loss_weight={self.loss_weight}')
