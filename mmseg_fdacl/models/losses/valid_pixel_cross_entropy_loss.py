"""Cross-entropy averaged over labeled pixels, with class weights.

The reference DeepLabV2 code (YanchaoYang/FDA ``model/deeplab.py``
``CrossEntropy2d``) masks the ignore label out and calls ``F.cross_entropy``
with the class weights: the loss is ``sum_i w[y_i] l_i / sum_i w[y_i]`` over the
labeled pixels only. MMSeg 1.2.2's ``CrossEntropyLoss`` averages over every
pixel unless ``avg_non_ignore=True``, and with ``class_weight`` it indexes the
weight table with the label itself, which fails on the ignore label 255
(IndexError on CPU, a device-side assert on GPU).
"""
from typing import List, Optional, Union

import torch
import torch.nn.functional as F
from mmseg.models.losses.utils import get_class_weight
from mmseg.registry import MODELS
from torch import Tensor, nn

from .checks import check_loss_name, check_loss_weight


def valid_pixel_cross_entropy(pred: Tensor,
                              label: Tensor,
                              class_weight: Optional[Tensor] = None,
                              ignore_index: int = 255) -> Tensor:
    """Weighted mean cross-entropy over the pixels whose label is not ignored.

    Args:
        pred (Tensor): Logits ``N x C x H x W``.
        label (Tensor): Labels ``N x H x W`` (``ignore_index`` allowed).
        class_weight (Tensor, optional): ``C`` weights. Default: None.
        ignore_index (int): The ignored label. Default: 255.

    Returns:
        Tensor: A scalar; 0 (with the graph kept, zero gradient) when no
        pixel is labeled.
    """
    loss = F.cross_entropy(
        pred.float(),
        label,
        weight=None if class_weight is None else class_weight.float(),
        ignore_index=ignore_index,
        reduction='mean')
    # With no labeled pixel the mean is 0 / 0; select 0 on the device
    # instead of asking the host (a sync every step on a GPU). The ignored
    # pixels get no gradient from cross_entropy, so the graph stays finite.
    # (Before, this returned ``pred.sum() * 0``: NaN for non-finite
    # ``pred``; the other terms of such a step are non-finite anyway.)
    any_valid = (label != ignore_index).any()
    return torch.where(any_valid, loss, loss.new_zeros(()))


@MODELS.register_module()
class ValidPixelCrossEntropyLoss(nn.Module):
    """Softmax cross-entropy as the DeepLabV2 reference computes it.

    A drop-in for ``decode_head.loss_decode``: same call as MMSeg's
    ``CrossEntropyLoss`` (``cls_score, label, weight=None, ignore_index=...``),
    key ``loss_ce``.

    Args:
        class_weight (list[float] | str, optional): Per-class weights, or a
            file MMSeg's ``get_class_weight`` reads (``.json`` from
            ``tools/compute_class_weights.py``, ``.npy``, ``.pkl``).
            Default: None.
        loss_weight (float): Multiplier of the loss. Default: 1.0.
        loss_name (str): The key in the loss dict. Default: 'loss_ce'.
    """

    def __init__(self,
                 class_weight: Optional[Union[List[float], str]] = None,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_ce') -> None:
        super().__init__()
        weights = get_class_weight(class_weight)
        if weights is not None:
            weights = [float(w) for w in weights]
            if not weights or any(w < 0 for w in weights):
                raise ValueError(
                    'ValidPixelCrossEntropyLoss: `class_weight` must be '
                    f'non-negative numbers, got {class_weight!r}.')
        self.class_weight = weights
        self.loss_weight = check_loss_weight('ValidPixelCrossEntropyLoss',
                                             loss_weight)
        self._loss_name = check_loss_name('ValidPixelCrossEntropyLoss',
                                          loss_name)

    def forward(self,
                cls_score: Tensor,
                label: Tensor,
                weight: Optional[Tensor] = None,
                ignore_index: int = 255,
                **kwargs) -> Tensor:
        """Loss of ``cls_score`` (``N x C x H x W``) against ``label``."""
        if weight is not None:
            raise ValueError('ValidPixelCrossEntropyLoss: per-pixel `weight` '
                             'is not supported; use class_weight.')
        class_weight = None
        if self.class_weight is not None:
            if len(self.class_weight) != cls_score.shape[1]:
                raise ValueError(
                    f'ValidPixelCrossEntropyLoss: {len(self.class_weight)} '
                    f'class weights for {cls_score.shape[1]} classes.')
            class_weight = torch.tensor(
                self.class_weight, device=cls_score.device)
        return self.loss_weight * valid_pixel_cross_entropy(
            cls_score, label, class_weight, ignore_index)

    @property
    def loss_name(self) -> str:
        """The key of this loss in the loss dict."""
        return self._loss_name
