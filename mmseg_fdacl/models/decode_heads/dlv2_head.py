"""DeepLabV2 ASPP classifier head.

Chen et al., "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets,
Atrous Convolution, and Fully Connected CRFs", TPAMI 2017. The layout follows the
``Classifier_Module`` used by AdaptSegNet, ADVENT and FDA: parallel dilated 3x3
convolutions straight to class scores, summed.
"""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType


@MODELS.register_module()
class DLV2Head(BaseDecodeHead):
    """DeepLabV2 ASPP classifier: summed dilated 3x3 convolutions to classes.

    Unlike :class:`mmseg.models.ASPPHead` (DeepLabV3), there is no image pooling,
    no feature projection and no ``conv_seg``: each branch predicts class scores
    and the branch outputs are added.

    Args:
        in_channels (int): Channels of the backbone feature map.
        num_classes (int): Number of classes.
        dilations (Sequence[int]): Dilation rate of each branch.
            Default: (6, 12, 18, 24).
        init_cfg (dict): Initialization; DeepLabV2 draws the branch weights
            from N(0, 0.01). Default: Normal(std=0.01) on ``aspp_modules``.
        **kwargs: Other :class:`BaseDecodeHead` arguments (``loss_decode``,
            ``in_index``, ``align_corners``, ...). ``channels`` and
            ``dropout_ratio`` are fixed by the architecture and refused.
    """

    def __init__(self,
                 in_channels: int,
                 *,
                 num_classes: int,
                 dilations: Sequence[int] = (6, 12, 18, 24),
                 init_cfg: ConfigType = dict(
                     type='Normal', std=0.01, override=dict(name='aspp_modules')),
                 **kwargs) -> None:
        for fixed in ('channels', 'dropout_ratio'):
            if fixed in kwargs:
                raise ValueError(
                    f'DLV2Head: `{fixed}` is fixed by the DeepLabV2 classifier; '
                    f'remove it from the head config (got {kwargs[fixed]!r}).')
        if (not isinstance(dilations, (list, tuple)) or len(dilations) == 0
                or not all(isinstance(d, int) and d >= 1 for d in dilations)):
            raise ValueError('DLV2Head: `dilations` must be a non-empty sequence '
                             f'of positive ints, got {dilations!r}.')
        super().__init__(
            in_channels,
            channels=num_classes,
            num_classes=num_classes,
            dropout_ratio=0.0,
            init_cfg=init_cfg,
            **kwargs)
        # The branches themselves classify; BaseDecodeHead's 1x1 classifier
        # would be an unused parameter (and break DDP without
        # find_unused_parameters).
        del self.conv_seg
        self.dilations = tuple(dilations)
        self.aspp_modules = nn.ModuleList(
            nn.Conv2d(
                self.in_channels,
                self.out_channels,
                kernel_size=3,
                padding=dilation,
                dilation=dilation,
                bias=True) for dilation in self.dilations)

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        """Return class logits at the feature map's resolution."""
        x = self._transform_inputs(inputs)
        out = self.aspp_modules[0](x)
        for branch in self.aspp_modules[1:]:
            out = out + branch(x)
        return out
