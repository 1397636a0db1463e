"""HRDA's multi-resolution decode head with a learned scale attention.

Hoyer et al., "HRDA: Context-Aware High-Resolution Domain-Adaptive Semantic
Segmentation", ECCV 2022 (lhoyer/HRDA ``mmseg/models/decode_heads/
hrda_head.py``). One single-scale head (a DAFormerHead or a DLV2Head)
predicts the low-resolution context crop and the high-resolution detail crop;
a second head of the same kind, ending in a sigmoid, gives a per-class scale
attention ``a`` from the context features, and the fused prediction is
``a x detail + (1 - a) x context`` (context upsampled; outside the detail
crop, during training, ``a = 0``).
"""
import copy
from typing import List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor, nn

from ..losses.pixel_weighted_ce import pixel_weighted_ce
from ..utils.crops import Box, crop, paste_average, scale_box

__all__ = ['HRDAHead', 'MultiResFeatures', 'SlideFeatures',
           'fuse_predictions']

# Output stride of each single-scale head (HRDAHead's ``self.os``).
_OUTPUT_STRIDES = {'DAFormerHead': 4, 'DLV2Head': 8}


class SlideFeatures(NamedTuple):
    """Features of overlapping detail crops, batched: ``features`` (levels,
    each ``(len(boxes) * N) x C x h x w``, box-major), ``boxes`` (pixel
    boxes in the detail image) and ``batch_size`` (``N``)."""
    features: List[Tensor]
    boxes: List[Box]
    batch_size: int


class MultiResFeatures(list):
    """``[context levels, detail]`` as :class:`HRDAHead` takes them.

    ``detail`` is a list of levels (one detail crop, or the whole image) or
    :class:`SlideFeatures`; ``crop_box`` is the detail crop's box in the
    pixels of the full-resolution image (None at inference).
    """

    def __init__(self, context: Sequence[Tensor],
                 detail: Union[Sequence[Tensor], SlideFeatures],
                 crop_box: Optional[Box] = None) -> None:
        super().__init__([list(context), detail])
        self.crop_box = crop_box


def fuse_predictions(context: Tensor,
                     detail: Tensor,
                     att,
                     context_scale: float,
                     output_stride: int,
                     crop_box: Optional[Box] = None,
                     align_corners: bool = False) -> Tensor:
    """HRDA's fusion ``att x detail + up((1 - att) x context)``.

    Args:
        context (Tensor): ``N x C x h x w`` context prediction.
        detail (Tensor): The detail prediction: of the detail crop (with
            ``crop_box``) or of the whole image at full resolution.
        att (Tensor | float): Scale attention at the context's resolution
            (``N x C x h x w`` or ``N x 1 x h x w``) or a fixed weight.
        context_scale (float): Scale of the context image (0.5).
        output_stride (int): Of the single-scale head.
        crop_box (tuple, optional): The detail crop's box in full-resolution
            pixels; the attention is 0 outside it.
        align_corners (bool): Of the bilinear upsampling (the head's).

    Returns:
        Tensor: The fused prediction at ``output_stride`` of the full
        resolution.
    """
    if crop_box is not None:
        mask = context.new_zeros((context.shape[0], 1, *context.shape[2:]))
        y1, y2, x1, x2 = scale_box(crop_box, output_stride / context_scale)
        mask[:, :, y1:y2, x1:x2] = 1
        att = att * mask
    up_context = resize((1 - att) * context, scale_factor=1 / context_scale,
                        mode='bilinear', align_corners=False)
    if torch.is_tensor(att):
        att = resize(att, scale_factor=1 / context_scale, mode='bilinear',
                     align_corners=False)
    if crop_box is not None:
        y1, y2, x1, x2 = scale_box(crop_box, output_stride)
        if tuple(detail.shape[2:]) != (y2 - y1, x2 - x1):
            raise ValueError(
                f'HRDAHead: the detail prediction is '
                f'{tuple(detail.shape[2:])} but its crop spans '
                f'{(y2 - y1, x2 - x1)} cells at output stride '
                f'{output_stride}; the trunk must give features at exactly '
                '1/output_stride of its input (MMSeg ResNetV1c or MiT, not '
                'the ceil-mode caffe trunk).')
        inserted = torch.zeros_like(up_context)
        inserted[:, :, y1:y2, x1:x2] = detail
        detail = inserted
    if detail.shape != up_context.shape:
        raise ValueError(
            f'HRDAHead: detail {tuple(detail.shape)} and upsampled context '
            f'{tuple(up_context.shape)} predictions differ in size; the '
            'image size must be divisible by output_stride / context_scale.')
    return att * detail + up_context


@MODELS.register_module()
class HRDAHead(BaseDecodeHead):
    """HRDA's head over a single-scale head (Hoyer et al., ECCV 2022).

    ``forward`` takes :class:`MultiResFeatures` and returns ``(fused,
    context, detail)``; ``predict`` uses the fused prediction. The decode
    loss is ``(1 - hr - lr) x`` the loss of the fused prediction ``+ hr x``
    the detail crop's loss on the cropped labels (``+ lr x`` the context
    loss), as HRDAHead's ``losses``: ``loss_*``, ``hr.loss_*``, ``lr.loss_*``.

    Args:
        single_scale_head (dict): Config of the head used at each scale
            (``DAFormerHead`` or ``DLV2Head``); its ``in_channels``,
            ``num_classes``, ``align_corners``, ``ignore_index`` and
            ``loss_decode`` are this head's.
        scale_attention (dict, optional): Config of the attention head. None
            derives it from ``single_scale_head`` as HRDA: a DAFormerHead with
            ``attention_embed_dim`` channels and a 1x1 conv fusion instead of
            the ASPP; a DLV2Head as it is. Default: None.
        attention_embed_dim (int): See above (HRDA: 256). Default: 256.
        attention_classwise (bool): One attention per class (HRDA) or a
            single one. Default: True.
        fixed_attention (float, optional): A constant attention instead of
            the learned one (HRDA's ablation). Default: None.
        hr_loss_weight (float): Weight of the detail loss (HRDA: 0.1).
            Default: 0.1.
        lr_loss_weight (float): Weight of the context loss (HRDA: 0).
            Default: 0.
        context_scale (float): Scale of the context image; the segmentor
            sets it. Default: 0.5.
        output_stride (int, optional): Of the single-scale head; None: 4 for
            DAFormerHead, 8 for DLV2Head. Default: None.
        init_cfg (dict, optional): Initialization. Default: None.
    """

    def __init__(self,
                 single_scale_head: ConfigType,
                 *,
                 scale_attention: OptConfigType = None,
                 attention_embed_dim: int = 256,
                 attention_classwise: bool = True,
                 fixed_attention: Optional[float] = None,
                 hr_loss_weight: float = 0.1,
                 lr_loss_weight: float = 0.0,
                 context_scale: float = 0.5,
                 output_stride: Optional[int] = None,
                 init_cfg: OptConfigType = None) -> None:
        if not isinstance(single_scale_head, dict) or \
                'type' not in single_scale_head:
            raise ValueError('HRDAHead: `single_scale_head` must be a head '
                             f'config with a type, got {single_scale_head!r}.')
        head_cfg = copy.deepcopy(dict(single_scale_head))
        kind = head_cfg['type']
        if output_stride is None:
            if kind not in _OUTPUT_STRIDES:
                raise ValueError(
                    f'HRDAHead: set `output_stride` for a {kind} (known: '
                    f'{sorted(_OUTPUT_STRIDES)}).')
            output_stride = _OUTPUT_STRIDES[kind]
        for name, w in (('hr_loss_weight', hr_loss_weight),
                        ('lr_loss_weight', lr_loss_weight)):
            if not isinstance(w, (int, float)) or not 0 <= w <= 1:
                raise ValueError(f'HRDAHead: `{name}` must be in [0, 1], got '
                                 f'{w!r}.')
        if hr_loss_weight + lr_loss_weight > 1:
            raise ValueError('HRDAHead: hr_loss_weight + lr_loss_weight must '
                             'be at most 1 (the fused loss gets the rest).')
        if not 0 < context_scale < 1:
            raise ValueError('HRDAHead: `context_scale` must be in (0, 1), '
                             f'got {context_scale!r}.')
        in_channels = head_cfg['in_channels']
        multi = isinstance(in_channels, (list, tuple))
        super().__init__(
            in_channels=in_channels,
            channels=1,
            num_classes=head_cfg['num_classes'],
            in_index=head_cfg.get('in_index', list(range(len(in_channels)))
                                  if multi else -1),
            input_transform='multiple_select' if multi else None,
            align_corners=head_cfg.get('align_corners', False),
            ignore_index=head_cfg.get('ignore_index', 255),
            loss_decode=head_cfg.get(
                'loss_decode',
                dict(type='CrossEntropyLoss', use_sigmoid=False,
                     loss_weight=1.0)),
            init_cfg=init_cfg)
        del self.conv_seg, self.dropout
        self.head = MODELS.build(head_cfg)
        self.scale_attention = None
        self.fixed_attention = fixed_attention
        if fixed_attention is None:
            att_cfg = (copy.deepcopy(dict(scale_attention))
                       if scale_attention is not None else
                       self._attention_cfg(head_cfg, attention_embed_dim))
            if not attention_classwise:
                att_cfg['num_classes'] = 1
            self.scale_attention = MODELS.build(att_cfg)
        self.hr_loss_weight = float(hr_loss_weight)
        self.lr_loss_weight = float(lr_loss_weight)
        self.context_scale = float(context_scale)
        self.output_stride = int(output_stride)

    @staticmethod
    def _attention_cfg(head_cfg: dict, embed_dim: int) -> dict:
        cfg = copy.deepcopy(head_cfg)
        if cfg['type'] == 'DAFormerHead':
            # HRDA: a light DAFormer decoder for the attention.
            cfg['channels'] = embed_dim
            cfg['embed_dims'] = embed_dim
            fusion = cfg.get('fusion_cfg', {})
            if fusion.get('layer', 'aspp') == 'aspp':
                cfg['fusion_cfg'] = dict(
                    layer='conv',
                    kernel_size=1,
                    act_cfg=dict(type='ReLU'),
                    norm_cfg=fusion.get('norm_cfg'))
        return cfg

    # -- forward ---------------------------------------------------------
    def _decode_detail(self, detail) -> Tensor:
        if not isinstance(detail, SlideFeatures):
            return self.head(detail)
        logits = self.head(detail.features)
        boxes = [scale_box(b, self.output_stride) for b in detail.boxes]
        size = (max(b[1] for b in boxes), max(b[3] for b in boxes))
        return paste_average(logits, boxes, detail.batch_size, size)

    def attention(self, context: List[Tensor]):
        """The scale attention (sigmoid) from the context features, or the
        fixed one."""
        if self.scale_attention is None:
            return self.fixed_attention
        return torch.sigmoid(self.scale_attention(context))

    def forward(self, inputs: MultiResFeatures
                ) -> Tuple[Tensor, Tensor, Tensor]:
        """``(fused, context, detail)`` predictions (logits)."""
        if not isinstance(inputs, MultiResFeatures):
            raise TypeError(
                'HRDAHead: takes MultiResFeatures (from HRDAEncoderDecoder '
                f'or HRDASelfTrainingEncoderDecoder), got {type(inputs)}.')
        context, detail = inputs
        lr = self.head(context)
        hr = self._decode_detail(detail)
        fused = fuse_predictions(lr, hr, self.attention(context),
                                 self.context_scale, self.output_stride,
                                 inputs.crop_box, self.align_corners)
        return fused, lr, hr

    def predict(self, inputs: MultiResFeatures, batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """The fused prediction, resized to the image (MMSeg's
        ``predict_by_feat``)."""
        return self.predict_by_feat(self.forward(inputs)[0], batch_img_metas)

    # -- losses ----------------------------------------------------------
    def _label_losses(self, logits: Tensor, label: Tensor) -> dict:
        logits = resize(logits, size=label.shape[1:], mode='bilinear',
                        align_corners=self.align_corners)
        losses = dict()
        modules = (self.loss_decode if isinstance(self.loss_decode,
                                                  nn.ModuleList) else
                   [self.loss_decode])
        for module in modules:
            value = module(logits, label, weight=None,
                           ignore_index=self.ignore_index)
            losses[module.loss_name] = losses.get(module.loss_name,
                                                  0) + value
        losses['acc_seg'] = accuracy(logits, label,
                                     ignore_index=self.ignore_index)
        return losses

    def loss(self, inputs: MultiResFeatures, batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """The weighted fused, detail (and context) losses."""
        fused, lr, hr = self.forward(inputs)
        label = self._stack_batch_gt(batch_data_samples).squeeze(1)
        box = inputs.crop_box
        parts = [('', fused, label,
                  1 - self.hr_loss_weight - self.lr_loss_weight)]
        if self.hr_loss_weight > 0:
            parts.append(('hr.', hr, label if box is None else crop(
                label, box), self.hr_loss_weight))
        if self.lr_loss_weight > 0:
            parts.append(('lr.', lr, label, self.lr_loss_weight))
        losses = dict()
        for prefix, logits, lab, w in parts:
            for key, value in self._label_losses(logits, lab).items():
                losses[prefix + key] = value * w if 'loss' in key else value
        return losses

    def weighted_loss(self, inputs: MultiResFeatures, labels: Tensor,
                      weight: Tensor) -> Tensor:
        """The same weighting with per-pixel weighted cross-entropy
        (:func:`pixel_weighted_ce`), for pseudo labels: ``labels`` and
        ``weight`` are ``N x H x W`` at the full resolution; the detail term
        takes their ``crop_box``."""
        fused, lr, hr = self.forward(inputs)
        box = inputs.crop_box
        ac = self.align_corners
        loss = (1 - self.hr_loss_weight - self.lr_loss_weight) * \
            pixel_weighted_ce(fused, labels, weight, ac, self.ignore_index)
        if self.hr_loss_weight > 0:
            lab, wgt = (labels, weight) if box is None else (crop(
                labels, box), crop(weight, box))
            loss = loss + self.hr_loss_weight * pixel_weighted_ce(
                hr, lab, wgt, ac, self.ignore_index)
        if self.lr_loss_weight > 0:
            loss = loss + self.lr_loss_weight * pixel_weighted_ce(
                lr, labels, weight, ac, self.ignore_index)
        return loss
