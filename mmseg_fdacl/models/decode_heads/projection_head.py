"""Projection head for pixel embeddings, carrying the contrastive loss.

The two-layer 1x1 projection (conv, BN, ReLU, conv, L2 normalization) follows
Chen et al., "A Simple Framework for Contrastive Learning of Visual
Representations" (SimCLR), ICML 2020, applied per pixel as in Wang et al.,
"Exploring Cross-Image Pixel Contrast for Semantic Segmentation", ICCV 2021.
"""
from typing import List, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, SampleList

from ..losses.pixel_contrast_loss import PixelContrastLoss


def logits_as_embeddings(logits: torch.Tensor) -> torch.Tensor:
    """Use the class scores themselves as pixel embeddings (unit norm).

    The method's original contrastive term has no projection head: it feeds
    the segmentation output to the loss, which L2-normalizes it along the
    class dimension. So this is ``F.normalize(logits, dim=1)`` (not a
    softmax, whose outputs live on the simplex and would make every pair of
    confident same-class pixels nearly identical while leaving little room
    for negatives to move apart).

    Args:
        logits (Tensor): ``N x C x h x w`` class scores.

    Returns:
        Tensor: ``N x C x h x w``, unit L2 norm along ``C``.
    """
    if logits.dim() != 4:
        raise ValueError('logits_as_embeddings: `logits` must be '
                         f'N x C x h x w, got shape {tuple(logits.shape)}.')
    return F.normalize(logits, dim=1)


@MODELS.register_module()
class ProjectionHead(BaseDecodeHead):
    """Pixel projection head: 1x1 conv, BN, ReLU, 1x1 conv, L2 normalize.

    Usable as ``auxiliary_head`` of any :class:`EncoderDecoder`: its loss is
    the :class:`PixelContrastLoss` against the samples' ``gt_sem_seg`` (one
    view), logged as ``aux.loss_cl``. A UDA segmentor can instead call
    :meth:`forward` on each view and apply the loss itself.

    Args:
        in_channels (int): Channels of the selected backbone feature map.
        channels (int, optional): Hidden channels; None means
            ``in_channels``. Default: None.
        embed_dim (int): Embedding dimension D. Default: 256.
        num_classes (int): Only kept for :class:`BaseDecodeHead`; the head
            does not classify. Default: 19.
        norm_cfg (dict): Normalization after the first conv.
            Default: ``dict(type='BN', requires_grad=True)``.
        loss_decode (dict | Sequence[dict]): Contrastive loss config(s);
            each must build a :class:`PixelContrastLoss`.
            Default: ``dict(type='PixelContrastLoss')``.
        init_cfg (dict): Default: Normal(std=0.01) on the last conv
            (``embed``).
        **kwargs: Other :class:`BaseDecodeHead` arguments (``in_index``,
            ``input_transform``, ``ignore_index``, ``act_cfg``, ...).
            ``dropout_ratio`` is refused: there is no classifier to drop
            into.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int = None,
                 *,
                 embed_dim: int = 256,
                 num_classes: int = 19,
                 norm_cfg: OptConfigType = dict(type='BN', requires_grad=True),
                 loss_decode: ConfigType = dict(type='PixelContrastLoss'),
                 init_cfg: ConfigType = dict(
                     type='Normal', std=0.01, override=dict(name='embed')),
                 **kwargs) -> None:
        if 'dropout_ratio' in kwargs:
            raise ValueError(
                'ProjectionHead: `dropout_ratio` does not apply (no '
                f'classifier); remove it (got {kwargs["dropout_ratio"]!r}).')
        if (not isinstance(embed_dim, int) or isinstance(embed_dim, bool)
                or embed_dim < 1):
            raise ValueError('ProjectionHead: `embed_dim` must be an int >= '
                             f'1, got {embed_dim!r}.')
        if channels is None:
            if not isinstance(in_channels, int):
                raise ValueError(
                    'ProjectionHead: set `channels` when `in_channels` is a '
                    f'sequence (got in_channels={in_channels!r}).')
            channels = in_channels
        if (not isinstance(channels, int) or isinstance(channels, bool)
                or channels < 1):
            raise ValueError('ProjectionHead: `channels` must be an int >= '
                             f'1, got {channels!r}.')
        super().__init__(
            in_channels,
            channels,
            num_classes=num_classes,
            dropout_ratio=0.0,
            norm_cfg=norm_cfg,
            loss_decode=loss_decode,
            init_cfg=init_cfg,
            **kwargs)
        losses = (self.loss_decode if isinstance(self.loss_decode,
                                                 nn.ModuleList) else
                  [self.loss_decode])
        for loss in losses:
            if not isinstance(loss, PixelContrastLoss):
                raise ValueError(
                    'ProjectionHead: `loss_decode` must build '
                    'PixelContrastLoss (the head outputs embeddings, not '
                    f'class scores), got {type(loss).__name__}.')
        # No classifier: BaseDecodeHead's conv_seg would be an unused
        # parameter (and break DDP without find_unused_parameters).
        del self.conv_seg
        self.embed_dim = embed_dim
        self.proj = ConvModule(
            self.in_channels,
            self.channels,
            kernel_size=1,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg)
        self.embed = nn.Conv2d(self.channels, embed_dim, kernel_size=1)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        """Return ``N x D x h x w`` embeddings of unit L2 norm along D."""
        x = self._transform_inputs(inputs)
        return F.normalize(self.embed(self.proj(x)), dim=1)

    def loss_by_feat(self, seg_logits: torch.Tensor,
                     batch_data_samples: SampleList) -> dict:
        """Contrastive loss of the embeddings against ``gt_sem_seg``.

        Args:
            seg_logits (Tensor): The embeddings from :meth:`forward` (named
                as in :class:`BaseDecodeHead`).
            batch_data_samples (list[:obj:`SegDataSample`]): Samples with
                ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: ``{loss_name: loss}`` per configured loss.
        """
        seg_label = self._stack_batch_gt(batch_data_samples).squeeze(1)
        losses = (self.loss_decode if isinstance(self.loss_decode,
                                                 nn.ModuleList) else
                  [self.loss_decode])
        loss = dict()
        for loss_decode in losses:
            value = loss_decode(
                seg_logits, seg_label, ignore_index=self.ignore_index)
            if loss_decode.loss_name in loss:
                loss[loss_decode.loss_name] = (
                    loss[loss_decode.loss_name] + value)
            else:
                loss[loss_decode.loss_name] = value
        return loss

    def predict_by_feat(self, seg_logits: torch.Tensor,
                        batch_img_metas: List[dict]) -> Tuple:
        """Refused: embeddings are not class scores."""
        raise NotImplementedError(
            'ProjectionHead produces embeddings, not class scores; it is an '
            'auxiliary (training-only) head and has no prediction.')
