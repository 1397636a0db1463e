"""Entropy minimization on unlabeled target predictions.

Vu et al., "ADVENT: Adversarial Entropy Minimization for Domain Adaptation in
Semantic Segmentation", CVPR 2019 (normalized entropy, mean over pixels), and
Yang & Soatto, "FDA: Fourier Domain Adaptation for Semantic Segmentation",
CVPR 2020, Eq. 5 (Charbonnier penalty ``(H^2 + 1e-8)^eta`` on the normalized
entropy, eta = 2.0, weight 0.005).
"""
import math
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS

from .checks import check_loss_name, check_loss_weight

# The epsilon inside the Charbonnier penalty, as in FDA's reference code.
_CHARBONNIER_EPS = 1e-8


def entropy_map(logits: torch.Tensor) -> torch.Tensor:
    """Per-pixel normalized entropy ``-sum_c p_c log p_c / log C`` in [0, 1].

    Computed in float32 (or float64 for float64 input) from ``log_softmax``,
    so fp16/bf16 logits neither overflow in ``exp`` nor hit ``log(0)``.

    Args:
        logits (Tensor): Class scores, ``N x C x H x W`` with ``C >= 2``.

    Returns:
        Tensor: ``N x H x W`` normalized entropy.
    """
    if logits.dim() != 4:
        raise ValueError('entropy_map: `logits` must be N x C x H x W, got '
                         f'shape {tuple(logits.shape)}.')
    num_classes = logits.shape[1]
    if num_classes < 2:
        raise ValueError('entropy_map: entropy needs at least 2 classes, got '
                         f'C={num_classes} (logits shape '
                         f'{tuple(logits.shape)}).')
    if logits.dtype != torch.float64:
        logits = logits.float()
    log_p = F.log_softmax(logits, dim=1)
    # p * log p -> 0 as p -> 0; exp(log_p) is exactly 0 there, so no NaN.
    ent = -(log_p.exp() * log_p).sum(dim=1)
    return ent / math.log(num_classes)


def entropy_loss(logits: torch.Tensor,
                 mask: Optional[torch.Tensor] = None,
                 *,
                 charbonnier_eta: Optional[float] = None) -> torch.Tensor:
    """Mean (optionally Charbonnier-penalised) normalized entropy.

    Args:
        logits (Tensor): ``N x C x H x W`` class scores (any float dtype).
        mask (Tensor, optional): ``N x H x W`` bool, True where a pixel
            counts. Default: None (all pixels).
        charbonnier_eta (float, optional): FDA's penalty exponent: the
            per-pixel term becomes ``(H^2 + 1e-8)^eta``. None gives the plain
            ADVENT form (the mean of ``H``). Default: None.

    Returns:
        Tensor: Scalar (float32 or float64). When the mask selects no pixel,
        ``logits.sum() * 0``, a zero that keeps the graph.
    """
    ent = entropy_map(logits)
    if charbonnier_eta is not None:
        ent = (ent.pow(2) + _CHARBONNIER_EPS).pow(charbonnier_eta)
    if mask is None:
        return ent.mean()
    if mask.shape != ent.shape:
        raise ValueError(
            'entropy_loss: `mask` must be N x H x W matching the logits '
            f'{tuple(ent.shape)}, got {tuple(mask.shape)}; resize it to the '
            'logits (nearest) before calling.')
    mask = mask.to(device=ent.device, dtype=torch.bool)
    num_valid = mask.sum()
    if int(num_valid) == 0:
        return logits.sum() * 0
    return (ent * mask).sum() / num_valid


@MODELS.register_module()
class EntropyLoss(nn.Module):
    """Entropy minimization loss (ADVENT form, or FDA's Charbonnier form).

    ``loss = loss_weight * mean_valid(H)`` with ``H = -sum_c p_c log p_c / log C``
    or, with ``charbonnier_eta``, ``loss_weight * mean_valid((H^2 + 1e-8)^eta)``.

    Args:
        loss_weight (float): lambda_ent; FDA uses 0.005, ADVENT 0.001.
            Default: 1.0.
        charbonnier_eta (float, optional): FDA's exponent (2.0 in FDA); None
            for the plain ADVENT entropy. Default: None.
        loss_name (str): Key in the loss dict; must start with ``loss_``.
            Default: 'loss_ent'.
    """

    def __init__(self,
                 *,
                 loss_weight: float = 1.0,
                 charbonnier_eta: Optional[float] = None,
                 loss_name: str = 'loss_ent') -> None:
        super().__init__()
        if charbonnier_eta is not None and (
                not isinstance(charbonnier_eta, (int, float))
                or isinstance(charbonnier_eta, bool) or charbonnier_eta <= 0):
            raise ValueError('EntropyLoss: `charbonnier_eta` must be None or '
                             f'a number > 0 (FDA: 2.0), got '
                             f'{charbonnier_eta!r}.')
        self.loss_weight = check_loss_weight('EntropyLoss', loss_weight)
        self.charbonnier_eta = (None if charbonnier_eta is None else
                                float(charbonnier_eta))
        self._loss_name = check_loss_name('EntropyLoss', loss_name)

    def forward(self,
                logits: torch.Tensor,
                mask: Optional[torch.Tensor] = None,
                **kwargs) -> torch.Tensor:
        """Weighted entropy of ``logits`` (N x C x H x W) over ``mask``.

        Extra keyword arguments (``weight``, ``ignore_index`` passed by
        :class:`BaseDecodeHead`) are accepted and ignored: entropy needs no
        labels.
        """
        return self.loss_weight * entropy_loss(
            logits, mask, charbonnier_eta=self.charbonnier_eta)

    @property
    def loss_name(self) -> str:
        """Name of the loss item in the loss dict."""
        return self._loss_name

    def extra_repr(self) -> str:
        return (f'loss_weight={self.loss_weight}, '
                f'charbonnier_eta={self.charbonnier_eta}')
