"""HRDA (Hoyer et al., ECCV 2022) trained by online self-training.

The online recipe of :class:`SelfTrainingEncoderDecoder` (mean teacher,
ClassMix, colour jitter and blur, rare-class sampling, the ImageNet feature
distance, MIC's masking) with HRDA's multi-resolution network, as lhoyer/HRDA
``mmseg/models/uda/dacs.py`` drives ``HRDAEncoderDecoder``: every student
forward (source, mixed image, masked image) draws its own detail crop and
is weighed as :class:`HRDAHead` (fused + 0.1 x detail); the teacher's pseudo
labels are its fused prediction with sliding detail inference; the feature
distance is on the context features (HRDA's ``feature_scale=0.5``).
"""
from typing import Dict, List

from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList
from torch import Tensor

from .hrda_encoder_decoder import MultiResolutionMixin
from .self_training_encoder_decoder import SelfTrainingEncoderDecoder

__all__ = ['HRDASelfTrainingEncoderDecoder']


@MODELS.register_module()
class HRDASelfTrainingEncoderDecoder(MultiResolutionMixin,
                                     SelfTrainingEncoderDecoder):
    """:class:`SelfTrainingEncoderDecoder` on HRDA's multi-resolution
    network.

    Args:
        backbone, decode_head, and by keyword :class:`MultiResolutionMixin`'s
            arguments (``hr_crop_size``, ``context_scale``, ...) and
            :class:`SelfTrainingEncoderDecoder`'s. The target-image terms of
            :class:`UDAEncoderDecoder` (entropy, contrast, offline pseudo
            labels) are not available here: they read single-scale logits.
    """

    def __init__(self, backbone: ConfigType, decode_head: ConfigType,
                 **kwargs) -> None:
        for name in ('lambda_ent', 'lambda_cl', 'lambda_pseudo_ce'):
            if kwargs.get(name, 0):
                raise ValueError(
                    f'HRDASelfTrainingEncoderDecoder: `{name}` is not '
                    'available with HRDA (the term reads single-scale '
                    f'logits); remove {name}.')
        if kwargs.get('pseudo_label_view', 'target') != 'target':
            raise ValueError(
                'HRDASelfTrainingEncoderDecoder: pseudo_label_view must be '
                "'target' (HRDA's teacher sees the target image).")
        super().__init__(backbone=backbone, decode_head=decode_head,
                         **kwargs)

    def weighted_student_loss(self, imgs: Tensor, labels: Tensor,
                              weight: Tensor) -> Tensor:
        """HRDA's weighted loss of the student on ``imgs`` (a new detail
        crop per call, as each ``forward_train`` of HRDA)."""
        return self.decode_head.weighted_loss(
            self.extract_feat(imgs), labels, weight)

    def _extra_source_losses(self, inputs: Tensor, x: List,
                             data_samples: SampleList) -> Dict[str, Tensor]:
        """The feature distance on the context features: the frozen copy
        sees the source at ``context_scale``."""
        if self.imnet_feature_dist is None:
            return dict()
        return super()._extra_source_losses(
            self._resize(inputs, self.context_scale).detach(), x[0],
            data_samples)
