"""The pixel contrast of :class:`UDAEncoderDecoder`: embeddings and loss call.

The contrastive term contrasts the target (anchor view) with its
source-stylized copy, positives sharing a pseudo label. Its embeddings are a
:class:`ProjectionHead`'s or the class logits themselves, at the decoder's
resolution or upsampled to the input's (``embedding_resolution``); the
method's cross-view form at the input's resolution upsamples and normalizes
only the drawn positions (:mod:`..losses.sampled_upsample`).
"""
from typing import List, Optional, Tuple

import torch.nn.functional as F
from mmseg.models.utils import resize
from torch import Tensor

from ..decode_heads.projection_head import ProjectionHead, logits_as_embeddings


class ContrastTermMixin:
    """The contrastive term's parts, for an ``EncoderDecoder`` subclass with
    ``embedding``, ``embedding_resolution``, ``contrast_loss`` and
    ``align_corners`` set (:class:`UDAEncoderDecoder`)."""

    def _check_contrast_setup(self) -> None:
        if self.embedding == 'projection' and not isinstance(
                getattr(self, 'auxiliary_head', None), ProjectionHead):
            raise ValueError(
                "UDAEncoderDecoder: embedding='projection' needs "
                "`auxiliary_head=dict(type='ProjectionHead', ...)`, got "
                f"{type(getattr(self, 'auxiliary_head', None)).__name__}; "
                "or use embedding='logits'.")
        if not getattr(self.data_preprocessor, 'makes_target_src_style',
                       False):
            raise ValueError(
                'UDAEncoderDecoder: lambda_cl > 0 contrasts the target with '
                'its source-stylized copy; use UDADataPreProcessor with '
                'fda=dict(..., target_to_source=True).')

    @property
    def _projection_aux(self) -> bool:
        return isinstance(getattr(self, 'auxiliary_head', None),
                          ProjectionHead)

    def _to_input_size(self, x: Tensor, inputs: Tensor) -> Tensor:
        """Bilinear resize of ``x`` to the input size (head's corners)."""
        return resize(
            x,
            size=inputs.shape[2:],
            mode='bilinear',
            align_corners=self.align_corners)

    def _embed(self, feats: List[Tensor], logits: Optional[Tensor],
               inputs: Tensor) -> Tensor:
        """Contrastive embeddings of one view, at ``embedding_resolution``.

        Class logits are upsampled before they are L2-normalized (the
        method normalizes the full-resolution logits inside its loss).
        """
        if self.embedding == 'projection':
            emb = self.auxiliary_head.forward(feats)
            if self.embedding_resolution == 'input':
                emb = F.normalize(self._to_input_size(emb, inputs), dim=1)
            return emb
        if self.embedding_resolution == 'input':
            logits = self._to_input_size(logits, inputs)
        return logits_as_embeddings(logits)

    def _contrast(self, x_t: List[Tensor], logits_t: Tensor,
                  x_ts: List[Tensor], target_inputs: Tensor,
                  target_src_style_inputs: Tensor,
                  labels: Tensor) -> Tensor:
        """Contrast of the target (anchor view) with its source-style copy,
        positives sharing a label of ``labels`` (``N x H x W``).

        The cross-view form at ``embedding_resolution='input'`` gets the
        decoder-resolution maps and the input size: it draws its positions
        on the input grid and upsamples and normalizes only those (the same
        loss and gradients as upsampling both maps,
        :mod:`..losses.sampled_upsample`).
        """
        if (self.embedding_resolution == 'input'
                and getattr(self.contrast_loss, 'form', None) == 'cross_view'):
            return self._sampled_contrast(x_t, logits_t, x_ts,
                                          target_inputs.shape[2:], labels)
        emb_t = self._embed(x_t, logits_t, target_inputs)
        logits_ts = (None if self.embedding == 'projection' else
                     self.decode_head.forward(x_ts))
        emb_ts = self._embed(x_ts, logits_ts, target_src_style_inputs)
        pred_t = F.interpolate(
            logits_t.detach().argmax(1, keepdim=True).float(),
            size=emb_t.shape[2:],
            mode='nearest').squeeze(1).long()
        return self.contrast_loss([emb_t, emb_ts], labels, pred_t)

    def _sampled_contrast(self, x_t: List[Tensor], logits_t: Tensor,
                          x_ts: List[Tensor], size: Tuple[int, int],
                          labels: Tensor) -> Tensor:
        """The cross-view contrast on decoder-resolution embeddings, upsampled
        to ``size`` and L2-normalized at the drawn positions only."""
        if self.embedding == 'projection':
            emb_t = self.auxiliary_head.forward(x_t)
            emb_ts = self.auxiliary_head.forward(x_ts)
        else:
            emb_t, emb_ts = logits_t, self.decode_head.forward(x_ts)
        return self.contrast_loss([emb_t, emb_ts],
                                  labels,
                                  size=tuple(size),
                                  align_corners=self.align_corners,
                                  normalize=True)
