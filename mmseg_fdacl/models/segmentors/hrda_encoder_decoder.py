"""HRDA's multi-resolution encoder-decoder (Hoyer et al., ECCV 2022).

lhoyer/HRDA ``mmseg/models/segmentors/hrda_encoder_decoder.py``: the network
sees a training crop twice, as a low-resolution context (the crop resized by
``context_scale``, 0.5) and as a high-resolution detail crop (``hr_crop_size``
of the crop at full resolution, at a random position whose coordinates are
multiples of ``crop_coord_divisible``). :class:`HRDAHead` fuses the two
predictions with its scale attention. At inference the detail prediction of
the whole image comes from overlapping sliding detail crops (stride half the
crop), and the test-time sliding window over the image may run its crops as
one batch (``test_cfg.batched_slide``, HRDA's test setting).

:class:`MultiResolutionMixin` holds all of it so the plain segmentor here and
the online one (:class:`HRDASelfTrainingEncoderDecoder`) share it; both keep
:class:`mmseg.models.EncoderDecoder`'s parameter names, so ``tools/test.py``,
MMSeg's metrics and its sliding-window inference work unchanged.
"""
import copy
from typing import List, Sequence

import torch
from mmengine.dist import get_dist_info
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptSampleList
from torch import Tensor

from ..decode_heads.hrda_head import MultiResFeatures, SlideFeatures
from ..utils.crops import crop, paste_average, random_crop_box, slide_boxes

__all__ = ['MultiResolutionMixin', 'HRDAEncoderDecoder']


def _check_size(owner: str, name: str, value) -> tuple:
    if (not isinstance(value, (list, tuple)) or len(value) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0
            for v in value)):
        raise ValueError(f'{owner}: `{name}` must be two positive ints '
                         f'(h, w), got {value!r}.')
    return tuple(value)


class MultiResolutionMixin:
    """HRDA's context + detail forward for an :class:`EncoderDecoder`
    subclass (put it first among the bases).

    Args:
        backbone, decode_head, **kwargs: As the segmentor it is mixed into;
            ``decode_head`` must be an :class:`HRDAHead` (its
            ``context_scale`` is set from here).
        hr_crop_size (Sequence[int]): Detail crop ``(h, w)`` (HRDA: 512 x
            512 of a 1024 x 1024 training crop). Default: (512, 512).
        context_scale (float): Scale of the context image (HRDA: 0.5).
            Default: 0.5.
        crop_coord_divisible (int): Detail crop offsets are multiples of it
            (HRDA: 8, so the crop lands on whole cells of the output stride
            at both scales). Default: 8.
        hr_slide_inference (bool): At inference, the detail prediction from
            sliding detail crops (HRDA) instead of the whole image at full
            resolution. Default: True.
        hr_slide_overlapping (bool): Those crops overlap by half (stride
            half the crop, HRDA) or tile. Default: True.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 *,
                 hr_crop_size: Sequence[int] = (512, 512),
                 context_scale: float = 0.5,
                 crop_coord_divisible: int = 8,
                 hr_slide_inference: bool = True,
                 hr_slide_overlapping: bool = True,
                 **kwargs) -> None:
        owner = type(self).__name__
        if not isinstance(decode_head, dict) or \
                decode_head.get('type') != 'HRDAHead':
            raise ValueError(f"{owner}: `decode_head` must be "
                             "dict(type='HRDAHead', single_scale_head=...), "
                             f'got {decode_head!r}.')
        if kwargs.get('auxiliary_head') is not None:
            raise ValueError(f'{owner}: HRDA takes no auxiliary_head (as '
                             'HRDAEncoderDecoder); remove it.')
        if not isinstance(context_scale, float) or not 0 < context_scale < 1:
            raise ValueError(f'{owner}: `context_scale` must be a float in '
                             f'(0, 1), got {context_scale!r}.')
        if (not isinstance(crop_coord_divisible, int)
                or crop_coord_divisible < 1):
            raise ValueError(f'{owner}: `crop_coord_divisible` must be an '
                             f'int >= 1, got {crop_coord_divisible!r}.')
        decode_head = copy.deepcopy(dict(decode_head))
        decode_head['context_scale'] = context_scale
        super().__init__(backbone=backbone, decode_head=decode_head,
                         **kwargs)
        self.hr_crop_size = _check_size(owner, 'hr_crop_size', hr_crop_size)
        self.context_scale = context_scale
        self.crop_coord_divisible = crop_coord_divisible
        self.hr_slide_inference = bool(hr_slide_inference)
        self.hr_slide_overlapping = bool(hr_slide_overlapping)
        if not hasattr(self, 'generator'):
            rank, _ = get_dist_info()
            self.generator = torch.Generator()
            self.generator.manual_seed(rank)

    # -- features --------------------------------------------------------
    def _resize(self, img: Tensor, scale: float) -> Tensor:
        return resize(img, scale_factor=scale, mode='bilinear',
                      align_corners=self.align_corners)

    def extract_unscaled_feat(self, inputs: Tensor) -> List[Tensor]:
        """Backbone (+ neck) features of ``inputs`` as they are."""
        return EncoderDecoder.extract_feat(self, inputs)

    def extract_feat(self, inputs: Tensor) -> MultiResFeatures:
        """Training features: the context of the whole input and a detail
        crop at a random position (drawn from :attr:`generator`)."""
        context = self.extract_unscaled_feat(
            self._resize(inputs, self.context_scale))
        box = random_crop_box(*inputs.shape[2:], self.hr_crop_size,
                              self.crop_coord_divisible, self.generator)
        detail = self.extract_unscaled_feat(crop(inputs, box))
        return MultiResFeatures(context, detail, box)

    def inference_feat(self, inputs: Tensor) -> MultiResFeatures:
        """Inference features: the context and the detail of the whole
        input (sliding detail crops, batched, with ``hr_slide_inference``)."""
        with torch.no_grad():
            small = self._resize(inputs, self.context_scale)
        context = self.extract_unscaled_feat(small)
        if not self.hr_slide_inference:
            return MultiResFeatures(context,
                                    self.extract_unscaled_feat(inputs))
        stride = ([s // 2 for s in self.hr_crop_size]
                  if self.hr_slide_overlapping else self.hr_crop_size)
        boxes = slide_boxes(*inputs.shape[2:], self.hr_crop_size, stride)
        feats = self.extract_unscaled_feat(
            torch.cat([crop(inputs, b) for b in boxes]))
        return MultiResFeatures(
            context, SlideFeatures(list(feats), boxes, inputs.shape[0]))

    # -- inference -------------------------------------------------------
    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """The fused prediction of ``inputs``, at their image size."""
        return self.decode_head.predict(
            self.inference_feat(inputs), batch_img_metas, self.test_cfg)

    def _forward(self, inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        return self.decode_head.forward(self.inference_feat(inputs))[0]

    def slide_inference(self, inputs: Tensor,
                        batch_img_metas: List[dict]) -> Tensor:
        """MMSeg's sliding window; with ``test_cfg.batched_slide`` (HRDA)
        the windows of the image run as one batch."""
        if not self.test_cfg.get('batched_slide', False):
            return super().slide_inference(inputs, batch_img_metas)
        n, _, h, w = inputs.shape
        boxes = slide_boxes(h, w, self.test_cfg.crop_size,
                            self.test_cfg.stride)
        crops = torch.cat([crop(inputs, b) for b in boxes])
        # A torch.Size img_shape is what MMSeg's predict_by_feat resizes to
        # (as its own sliding window sets it).
        metas = [
            dict(meta, img_shape=crops.shape[2:]) for meta in batch_img_metas
        ] * len(boxes)
        return paste_average(self.encode_decode(crops, metas), boxes, n,
                             (h, w))

    def pseudo_label_logits(self, imgs: Tensor) -> Tensor:
        """The fused prediction of ``imgs`` at their size, from the sliding
        detail inference (HRDA's teacher)."""
        return resize(self._forward(imgs), size=imgs.shape[2:],
                      mode='bilinear', align_corners=self.align_corners)

    # -- random state ----------------------------------------------------
    def get_rng_state(self) -> Tensor:
        """State of :attr:`generator` (for ``RNGStateHook``)."""
        return self.generator.get_state()

    def set_rng_state(self, state: Tensor) -> None:
        """Restore what :meth:`get_rng_state` returned."""
        self.generator.set_state(state)


@MODELS.register_module()
class HRDAEncoderDecoder(MultiResolutionMixin, EncoderDecoder):
    """:class:`EncoderDecoder` with HRDA's multi-resolution training and
    inference (supervised or source-only training, and testing any HRDA
    checkpoint). Arguments: :class:`MultiResolutionMixin`'s and
    :class:`EncoderDecoder`'s, by keyword."""
