"""Online self-training with a mean teacher, for domain-adaptive segmentation.

The recipes of DACS (Tranheden et al., WACV 2021), DAFormer's training
strategy (Hoyer et al., CVPR 2022) and MIC (Hoyer et al., CVPR 2023), each
part a switch, composable with this project's FDA, entropy and pixel contrast
(:class:`UDAEncoderDecoder`):

* the teacher (an EMA of this segmentor, kept by :class:`MeanTeacherHook`)
  predicts pseudo labels on the target images, or on the target images in the
  source style (FDA target->source, the method's pseudo-label view applied
  online); their quality weight is the share of pixels more confident than
  ``pseudo_threshold`` (0.968); optionally FDA's per-class thresholds from
  running confidence histograms;
* ClassMix: half of the classes of each source image pasted onto its target
  image, labels and weights mixed the same way, then DACS' colour jitter and
  blur; cross-entropy of the student on the mixed image (``loss_ce_mix``);
* MIC: the student on the target image with random blocks masked out against
  the teacher's pseudo labels of the whole image (``loss_ce_masked``);
* the pixel contrast of :class:`UDAEncoderDecoder` with the teacher's pseudo
  labels in place of offline ones;
* DAFormer's ImageNet feature distance: the student's source features kept
  close to a frozen ImageNet-initialized copy of its backbone on thing
  classes (``loss_imnet_fd``), where ImageNet weights are given.

The student's parameter names are :class:`mmseg.models.EncoderDecoder`'s, so
``tools/test.py`` evaluates a checkpoint with a plain config too.
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.dist import get_dist_info
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptSampleList, SampleList
from torch import Tensor, nn

from ...datasets.label_ids import IGNORE_INDEX
from ..losses.pixel_weighted_ce import pixel_weighted_ce
from ..utils import ClassMix, block_masks, mask_images
from ..utils.checks import check_option_dict
from .imnet_copy import (ImageNetCopy, build_imnet_copy, imnet_fd_config,
                         imnet_fd_loss, imnet_features)
from .online_pseudo_labels import (apply_class_thresholds,
                                   class_threshold_config, loader_pseudo_mask,
                                   quality_weight, teacher_mode)
from .online_views import class_mix_view, strong_view
from .uda_encoder_decoder import UDAEncoderDecoder
from .uda_utils import check_weight, valid_mask

__all__ = ['SelfTrainingEncoderDecoder', 'pixel_weighted_ce']

_MIX = (None, 'class')
_VIEWS = ('target', 'source_style')
_TEACHER_MODES = ('train', 'eval')
_AUG_KEYS = ('color_jitter_p', 'color_jitter_s', 'blur')
_MASK_KEYS = ('block_size', 'ratio', 'augment')


_OWNER = 'SelfTrainingEncoderDecoder'


def _choice(name: str, value, allowed: tuple):
    if value not in allowed:
        raise ValueError(f'{_OWNER}: `{name}` must be one of {allowed}, got '
                         f'{value!r}.')
    return value


def _rows(name: str, rows) -> int:
    if not isinstance(rows, int) or isinstance(rows, bool) or rows < 0:
        raise ValueError(f'{_OWNER}: `{name}` must be an int >= 0, got '
                         f'{rows!r}.')
    return rows


@MODELS.register_module()
class SelfTrainingEncoderDecoder(UDAEncoderDecoder):
    """:class:`UDAEncoderDecoder` plus online self-training with a teacher.

    Loss keys, besides :class:`UDAEncoderDecoder`'s: ``loss_ce_mix`` (the
    student on ClassMix images, x ``lambda_st``; ``loss_ce_st`` when
    ``mix=None``: the student on the target images), ``loss_ce_masked``
    (MIC, x ``lambda_mask``) and ``pl_quality`` (logged only: the pseudo
    labels' quality weight). With ``lambda_cl > 0`` the contrastive term
    takes the teacher's pseudo labels, so no pseudo-label folder is needed.

    The teacher is lent by :class:`MeanTeacherHook` (``attach_teacher``);
    random draws (classes to paste, jitter, blur, masks) come from
    :attr:`generator`, saved and restored by ``RNGStateHook`` through
    :meth:`get_rng_state` / :meth:`set_rng_state`.

    Args:
        backbone, decode_head, and by keyword every argument of
            :class:`UDAEncoderDecoder` except ``lambda_pseudo_ce`` (offline
            pseudo labels; here ``lambda_st`` weighs the teacher's).
        lambda_st (float): Weight of the self-training cross-entropy.
            DACS/DAFormer: 1. Default: 1.0.
        pseudo_threshold (float, optional): Confidence tau of the quality
            weight (share of pixels above it, over the batch; DACS/DAFormer
            0.968); None weighs every pseudo-labelled pixel 1.
            Default: 0.968.
        pseudo_weight_ignore_top (int): Rows at the top whose pseudo labels
            get weight 0 (DAFormer on Cityscapes: 15). Default: 0.
        pseudo_weight_ignore_bottom (int): Rows at the bottom (DAFormer on
            Cityscapes: 120, the ego car). Default: 0.
        pseudo_label_view (str): ``'target'`` (the teacher sees the target
            image, DACS/DAFormer) or ``'source_style'`` (the target in the
            source style, FDA target->source: needs the preprocessor's
            ``fda.target_to_source``). Default: 'target'.
        class_thresholds (dict, optional): FDA's per-class thresholds applied
            online: pixels less confident than their class' threshold are
            ignored; thresholds from running confidence histograms (all
            ranks summed), kept in the buffer ``pl_class_histogram``. Keys:
            ``percentile`` (0.66), ``cap`` (0.9), ``num_bins`` (1000),
            ``decay`` (0.99: the histogram's weight kept per iteration).
            Default: None (off).
        mix (str, optional): ``'class'`` (ClassMix) or None (self-training
            on the target images themselves). Default: 'class'.
        class_mix_pool (str): The classes ClassMix draws half of:
            ``'batch'`` (DAFormer: every value of the batch's source labels,
            255 included) or ``'image'`` (the image's own classes, 255
            never). Default: 'batch'.
        strong_augment (dict, optional): DACS' colour jitter and blur on the
            student's self-training image (:func:`strong_transform`); keys
            ``color_jitter_p`` (0.8: the probability of jittering; DACS and
            DAFormer jitter when U(0, 1) > 0.2), ``color_jitter_s`` (0.2,
            DAFormer; DACS 0.25), ``blur`` (True: blur half of the batches).
            None: off. Default: ``{}`` (those values).
        lambda_mask (float): Weight of MIC's masked consistency (MIC: 1).
            Default: 0.
        mask (dict): MIC's masking: ``block_size`` (64), ``ratio`` (0.7,
            the masked share), ``augment`` (True: the masked image gets the
            strong augmentation first, MIC's ``separatetrgaug``).
        imnet_feature_dist (dict, optional): DAFormer's ImageNet feature
            distance; keys ``lambda_fd`` (0.005), ``classes`` (the thing
            classes ``(6, 7, 11, ..., 18)``; None: every pixel),
            ``scale_min_ratio`` (0.75). Needs ImageNet weights for the
            backbone (``pretrained`` or the backbone's ``init_cfg``); the
            frozen copy is built from the same backbone config, initialized
            by :meth:`init_weights`, kept out of the state dict and out of
            the teacher (a deep copy shares it).
            Default: None (off).
        teacher_mode (str): ``'train'`` runs the teacher with BatchNorm on
            batch statistics and dropout off (DAFormer); ``'eval'`` in eval
            mode. Default: 'train'.
        seed (int): Seed of :attr:`generator` (plus the rank, so ranks draw
            differently). Default: 0.
    """

    def __init__(self,
                 backbone: ConfigType,
                 decode_head: ConfigType,
                 *,
                 lambda_st: float = 1.0,
                 pseudo_threshold: Optional[float] = 0.968,
                 pseudo_weight_ignore_top: int = 0,
                 pseudo_weight_ignore_bottom: int = 0,
                 pseudo_label_view: str = 'target',
                 class_thresholds: Optional[dict] = None,
                 mix: Optional[str] = 'class',
                 class_mix_pool: str = 'batch',
                 strong_augment: Optional[dict] = {},
                 lambda_mask: float = 0.0,
                 mask: dict = dict(block_size=64, ratio=0.7, augment=True),
                 imnet_feature_dist: Optional[dict] = None,
                 teacher_mode: str = 'train',
                 seed: int = 0,
                 **kwargs) -> None:
        if kwargs.get('lambda_pseudo_ce', 0):
            raise ValueError(
                'SelfTrainingEncoderDecoder: `lambda_pseudo_ce` weighs '
                'offline pseudo labels; online self-training weighs the '
                "teacher's with `lambda_st`. Remove lambda_pseudo_ce.")
        super().__init__(backbone=backbone, decode_head=decode_head, **kwargs)
        self.lambda_st = check_weight('lambda_st', lambda_st)
        self.lambda_mask = check_weight('lambda_mask', lambda_mask)
        if pseudo_threshold is not None and not (
                isinstance(pseudo_threshold, (int, float))
                and 0.0 <= pseudo_threshold <= 1.0):
            raise ValueError(
                'SelfTrainingEncoderDecoder: `pseudo_threshold` must be a '
                f'number in [0, 1] or None, got {pseudo_threshold!r}.')
        self.pseudo_threshold = pseudo_threshold
        self.ignore_top = _rows('pseudo_weight_ignore_top',
                                pseudo_weight_ignore_top)
        self.ignore_bottom = _rows('pseudo_weight_ignore_bottom',
                                   pseudo_weight_ignore_bottom)
        self.pseudo_label_view = _choice('pseudo_label_view',
                                         pseudo_label_view, _VIEWS)
        self.mix = _choice('mix', mix, _MIX)
        self.class_mix = ClassMix(pool=class_mix_pool)
        self.strong_augment = (None if strong_augment is None else
                               check_option_dict(_OWNER, 'strong_augment',
                                                 strong_augment, _AUG_KEYS))
        self.mask = dict(block_size=64, ratio=0.7, augment=True)
        self.mask.update(
            check_option_dict(_OWNER, 'mask', mask, _MASK_KEYS))
        self.teacher_mode = _choice('teacher_mode', teacher_mode,
                                    _TEACHER_MODES)
        self.class_thresholds = None
        if class_thresholds is not None:
            cfg = class_threshold_config(_OWNER, class_thresholds)
            self.class_thresholds = cfg
            self.register_buffer(
                'pl_class_histogram',
                torch.zeros(
                    self.num_classes, int(cfg['num_bins']),
                    dtype=torch.float64))
        if (self.pseudo_label_view == 'source_style' and not getattr(
                self.data_preprocessor, 'makes_target_src_style', False)):
            raise ValueError(
                "SelfTrainingEncoderDecoder: pseudo_label_view='source_style'"
                ' predicts on the target in the source style; use '
                'UDADataPreProcessor with fda=dict(..., '
                'target_to_source=True).')
        self.imnet_feature_dist = None
        self._imnet: Tuple[nn.Module, ...] = ()
        if imnet_feature_dist is not None:
            self._build_imnet(backbone, kwargs.get('neck'), imnet_feature_dist)
        rank, _ = get_dist_info()
        self.generator = torch.Generator()
        self.generator.manual_seed(int(seed) + rank)
        self._teacher: Tuple[nn.Module, ...] = ()

    # -- ImageNet feature distance --------------------------------------
    def _build_imnet(self, backbone: ConfigType, neck: Optional[ConfigType],
                     cfg: dict) -> None:
        fd = imnet_fd_config(_OWNER, cfg)
        # Shared, not copied, by deep copies (the teacher).
        self._imnet = ImageNetCopy((build_imnet_copy(_OWNER, backbone,
                                                     neck), ))
        self.imnet_feature_dist = fd

    def init_weights(self) -> None:
        """Initialize the student and, with the feature distance, its frozen
        ImageNet copy (from the same weights)."""
        super().init_weights()
        for module in self._imnet[0] if self._imnet else ():
            module.init_weights()

    def _imnet_features(self, inputs: Tensor) -> List[Tensor]:
        return imnet_features(self._imnet[0], inputs)

    def _extra_source_losses(self, inputs: Tensor, x: List[Tensor],
                             data_samples: SampleList) -> Dict[str, Tensor]:
        """``loss_imnet_fd``: DAFormer's feature distance on the source
        features of the last level, on pixels of ``classes``."""
        if self.imnet_feature_dist is None:
            return dict()
        labels = torch.stack([s.gt_sem_seg.data for s in data_samples
                              ]).squeeze(1).long()
        return imnet_fd_loss(self.imnet_feature_dist, x[-1],
                             self._imnet_features(inputs)[-1], labels,
                             self.num_classes)

    # -- teacher and random state ----------------------------------------
    def attach_teacher(self, teacher: nn.Module) -> None:
        """Lend the teacher (held in a tuple: not a submodule, not in the
        state dict, not seen by the optimizer or DDP)."""
        self._teacher = (teacher, )

    @property
    def teacher(self) -> nn.Module:
        """The attached teacher; a clear error when there is none."""
        if not self._teacher:
            raise RuntimeError(
                'SelfTrainingEncoderDecoder: no teacher; add '
                "dict(type='MeanTeacherHook') to custom_hooks (it creates "
                'and updates the EMA teacher).')
        return self._teacher[0]

    def get_rng_state(self) -> Tensor:
        """State of :attr:`generator` (for ``RNGStateHook``)."""
        return self.generator.get_state()

    def set_rng_state(self, state: Tensor) -> None:
        """Restore what :meth:`get_rng_state` returned."""
        self.generator.set_state(state)

    # -- pseudo labels ---------------------------------------------------
    def pseudo_label_logits(self, imgs: Tensor) -> Tensor:
        """Class scores of ``imgs`` at their size, as the teacher gives them
        for pseudo labels (called on the teacher: one forward here)."""
        return self._to_input_size(
            self.decode_head.forward(self.extract_feat(imgs)), imgs)

    @torch.no_grad()
    def _teacher_logits(self, view: Tensor) -> Tensor:
        with teacher_mode(self.teacher, self.teacher_mode == 'train') as t:
            return t.pseudo_label_logits(view)

    @torch.no_grad()
    def pseudo_labels(self, view: Tensor,
                      samples: SampleList) -> Tuple[Tensor, Tensor, Tensor]:
        """The teacher's pseudo labels of ``view`` and their weights.

        Args:
            view (Tensor): The images the teacher sees, ``N x 3 x H x W``.
            samples (list[SegDataSample]): Their samples (image shapes for
                the padding).

        Returns:
            tuple[Tensor]: ``labels`` (``N x H x W`` long, 255 on padding and
            below a class threshold), ``weight`` (``N x H x W``: the quality
            weight, 0 on the ignored rows and outside the samples'
            ``valid_pseudo_mask``) and ``quality`` (the scalar weight).
        """
        prob = torch.softmax(self._teacher_logits(view).float(), dim=1)
        conf, labels = prob.max(dim=1)
        valid = valid_mask(view, samples)
        if self.class_thresholds is not None:
            labels = apply_class_thresholds(conf, labels, valid,
                                            self.pl_class_histogram,
                                            self.class_thresholds,
                                            self.num_classes)
        labels = labels.masked_fill(~valid, IGNORE_INDEX)
        weight, quality = quality_weight(conf, self.pseudo_threshold,
                                         self.ignore_top, self.ignore_bottom)
        margins = loader_pseudo_mask(samples, conf.shape[1:])
        if margins is not None:
            if self.ignore_top or self.ignore_bottom:
                raise ValueError(
                    'SelfTrainingEncoderDecoder: the target samples carry a '
                    'valid_pseudo_mask (PseudoLabelMargins in the pipeline) '
                    'and pseudo_weight_ignore_top/bottom are set; use one '
                    '(HRDA: the margins, ignore rows 0).')
            weight = weight * margins.to(weight)
        return labels, weight, quality

    # -- augmentation ----------------------------------------------------
    def _strong(self, imgs: Tensor) -> Tensor:
        return strong_view(imgs, self.data_preprocessor, self.generator,
                           self.strong_augment)

    # -- losses ----------------------------------------------------------
    def _student_logits(self, imgs: Tensor) -> Tensor:
        return self.decode_head.forward(self.extract_feat(imgs))

    def weighted_student_loss(self, imgs: Tensor, labels: Tensor,
                              weight: Tensor) -> Tensor:
        """The student's per-pixel weighted cross-entropy on ``imgs``
        (:func:`pixel_weighted_ce`; the ClassMix and masked terms)."""
        return pixel_weighted_ce(
            self._student_logits(imgs), labels, weight, self.align_corners)

    def loss(self,
             inputs: Tensor,
             data_samples: SampleList,
             target_inputs: Optional[Tensor] = None,
             target_data_samples: OptSampleList = None,
             target_src_style_inputs: Optional[Tensor] = None) -> dict:
        """The losses of :class:`UDAEncoderDecoder` and self-training.

        Args and returns as :meth:`UDAEncoderDecoder.loss`; the target
        samples need no ``gt_sem_seg``.
        """
        if target_inputs is None:
            raise ValueError(
                'SelfTrainingEncoderDecoder: self-training needs '
                '`target_inputs`; train with UDADataset and '
                'UDADataPreProcessor.')
        warm = self.current_iter() >= self.warmup_iters
        view = target_inputs
        if self.pseudo_label_view == 'source_style':
            if target_src_style_inputs is None:
                raise ValueError(
                    "SelfTrainingEncoderDecoder: pseudo_label_view="
                    "'source_style' needs `target_src_style_inputs` (set "
                    'data_preprocessor.fda.target_to_source=True).')
            view = target_src_style_inputs
        labels, weight, quality = self.pseudo_labels(view,
                                                     target_data_samples)
        losses = self._uda_losses(
            inputs,
            data_samples,
            target_inputs,
            target_data_samples,
            target_src_style_inputs,
            contrast_labels=labels)
        losses['pl_quality'] = quality
        if self.lambda_st > 0:
            key = 'loss_ce_mix' if self.mix == 'class' else 'loss_ce_st'
            losses[key] = self._self_training_loss(
                inputs, data_samples, target_inputs, labels,
                weight) if warm else inputs.new_zeros(())
        if self.lambda_mask > 0:
            losses['loss_ce_masked'] = self._masked_loss(
                target_inputs, labels,
                weight) if warm else inputs.new_zeros(())
        return losses

    def _self_training_loss(self, inputs: Tensor, data_samples: SampleList,
                            target_inputs: Tensor, labels: Tensor,
                            weight: Tensor) -> Tensor:
        imgs = target_inputs
        if self.mix == 'class':
            imgs, labels, weight = class_mix_view(self.class_mix,
                                                  self.generator, inputs,
                                                  data_samples, target_inputs,
                                                  labels, weight)
        return self.lambda_st * self.weighted_student_loss(
            self._strong(imgs), labels, weight)

    def _masked_loss(self, target_inputs: Tensor, labels: Tensor,
                     weight: Tensor) -> Tensor:
        imgs = self._strong(target_inputs) if self.mask['augment'] else \
            target_inputs
        n, _, h, w = imgs.shape
        masks = block_masks(
            n,
            h,
            w,
            block_size=self.mask['block_size'],
            ratio=self.mask['ratio'],
            generator=self.generator,
            device=imgs.device)
        return self.lambda_mask * self.weighted_student_loss(
            mask_images(imgs, masks), labels, weight)

    def extra_repr(self) -> str:
        return (f'mix={self.mix!r}, lambda_st={self.lambda_st}, '
                f'lambda_mask={self.lambda_mask}, '
                f'pseudo_label_view={self.pseudo_label_view!r}')

