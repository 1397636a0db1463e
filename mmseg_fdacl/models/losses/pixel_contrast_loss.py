"""PixelContrastLoss: the method's cross-view pixel contrast, or SupCon.

``form='cross_view'`` is the FDA + contrastive method's own loss
(:mod:`.cross_view_contrast`); ``form='supcon'`` is pixel-level SupCon
(:mod:`.supcon`, Khosla et al., NeurIPS 2020). Sampling is shared
(:mod:`.pixel_sampling`).
"""
from typing import Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS

from .checks import check_loss_name, check_loss_weight
from .cross_view_contrast import cross_view_pixel_contrast_loss
from .pixel_sampling import (DOWNSAMPLE_MODES, SAMPLING_MODES,  # noqa: F401
                             downsample_labels, sample_anchor_indices)
from .supcon import (TensorOrSeq, _as_list, pixel_contrast_loss,  # noqa: F401
                     supcon_loss)

FORMS = ('supcon', 'cross_view')


def _check_pos_int(name: str, value) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f'PixelContrastLoss: `{name}` must be an int >= 1, '
                         f'got {value!r}.')
    return value


def _resize_normalize(emb: torch.Tensor, size: Optional[Tuple[int, int]],
                      align_corners: bool, normalize: bool) -> torch.Tensor:
    if size is not None and tuple(emb.shape[2:]) != tuple(size):
        emb = F.interpolate(
            emb, size=tuple(size), mode='bilinear',
            align_corners=align_corners)
    return F.normalize(emb, dim=1) if normalize else emb


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
        self.temperature = float(temperature)
        self.base_temperature = (None if base_temperature is None else
                                 float(base_temperature))
        self.sampling = sampling
        self.hard_ratio = float(hard_ratio)
        self.ignore_index = ignore_index
        self.label_downsample = label_downsample
        self.loss_weight = check_loss_weight('PixelContrastLoss', loss_weight)
        self._loss_name = check_loss_name('PixelContrastLoss', loss_name)

    def forward(self,
                embeddings: TensorOrSeq,
                labels: TensorOrSeq,
                preds: Optional[TensorOrSeq] = None,
                *,
                size: Optional[Tuple[int, int]] = None,
                align_corners: bool = False,
                normalize: bool = False,
                **kwargs) -> torch.Tensor:
        """Weighted contrastive loss; see :func:`pixel_contrast_loss`.

        ``ignore_index`` in ``kwargs`` (as :class:`BaseDecodeHead` passes it)
        overrides the configured one; other keyword arguments are ignored.

        With ``size``, the embeddings count as ``F.interpolate(emb, size,
        mode='bilinear', align_corners=align_corners)`` followed, with
        ``normalize``, by ``F.normalize(dim=1)``: the cross-view form draws
        its positions on the ``size`` grid and interpolates and normalizes
        only those (same values and gradients,
        :mod:`.sampled_upsample`); the SupCon form upsamples the maps.
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
                label_downsample=self.label_downsample,
                size=size,
                align_corners=align_corners,
                normalize=normalize)
        if size is not None or normalize:
            embeddings = [
                _resize_normalize(e, size, align_corners, normalize)
                for e in _as_list(embeddings)
            ]
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
