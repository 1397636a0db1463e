"""The pixel contrast of :class:`UDAEncoderDecoder`: embeddings and loss call.

The contrastive term contrasts the target (anchor view) with its
source-stylized copy, positives sharing a pseudo label. Its embeddings are a
:class:`ProjectionHead`'s or the class logits themselves, at the decoder's
resolution or upsampled to the input's (``embedding_resolution``, by the
loss's own ``size`` and ``normalize``); the method's cross-view form at the
input's resolution upsamples and normalizes only the drawn positions
(:mod:`..losses.sampled_upsample`).
"""
from typing import List

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

    def _contrast(self, x_t: List[Tensor], logits_t: Tensor,
                  x_ts: List[Tensor], target_inputs: Tensor,
                  labels: Tensor) -> Tensor:
        """Contrast of the target (anchor view) with its source-style copy,
        positives sharing a label of ``labels`` (``N x H x W``).

        The embeddings are taken at the decoder's resolution (the projection
        head's are unit-norm already; class logits are L2-normalized). At
        ``embedding_resolution='input'`` the loss gets the input size and
        upsamples and normalizes them itself: the cross-view form only at its
        drawn positions (the same loss and gradients as upsampling both maps,
        :mod:`..losses.sampled_upsample`), the SupCon form the whole maps.
        """
        if self.embedding == 'projection':
            emb_t = self.auxiliary_head.forward(x_t)
            emb_ts = self.auxiliary_head.forward(x_ts)
        else:
            emb_t, emb_ts = logits_t, self.decode_head.forward(x_ts)
        if self.embedding_resolution == 'input':
            grid = tuple(target_inputs.shape[2:])
            resize_args = dict(
                size=grid, align_corners=self.align_corners, normalize=True)
        else:
            grid = tuple(emb_t.shape[2:])
            resize_args = dict()
            if self.embedding == 'logits':
                emb_t = logits_as_embeddings(emb_t)
                emb_ts = logits_as_embeddings(emb_ts)
        pred_t = None
        if getattr(self.contrast_loss, 'form', None) != 'cross_view':
            # The SupCon form's hard-example sampling reads the predictions
            # on the embeddings' grid; the cross-view form takes none.
            pred_t = F.interpolate(
                logits_t.detach().argmax(1, keepdim=True).float(),
                size=grid,
                mode='nearest').squeeze(1).long()
        return self.contrast_loss([emb_t, emb_ts], labels, pred_t,
                                  **resize_args)
