"""DeepLabV2 ASPP classifier head.

Chen et al., "DeepLab: Semantic Image Segmentation with Deep Convolutional Nets,
Atrous Convolution, and Fully Connected CRFs", TPAMI 2017. The layout follows the
``Classifier_Module`` used by AdaptSegNet, ADVENT and FDA: parallel dilated 3x3
convolutions straight to class scores, summed.

AdaptSegNet's ``Classifier_Module.forward`` (and DACS', which copies it)
returns inside its loop over the branches, so only the dilations 6 and 12
act; DAFormer, HRDA and MIC keep that as ``deeplabv2red``. FDA's sums all
four. Both are named values of ``dilations``.
"""
from typing import Dict, List, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType


#: Named ``dilations``: DeepLab's four branches, and the two that act in
#: AdaptSegNet's / DACS' classifier (DAFormer's ``deeplabv2red``).
NAMED_DILATIONS: Dict[str, Tuple[int, ...]] = {
    'deeplabv2': (6, 12, 18, 24),
    'deeplabv2red': (6, 12),
}


def resolve_dilations(dilations: Union[str, Sequence[int]]) -> Tuple[int, ...]:
    """Dilations from a name of ``NAMED_DILATIONS`` or a sequence, checked."""
    if isinstance(dilations, str):
        if dilations not in NAMED_DILATIONS:
            raise ValueError(
                f'DLV2Head: `dilations` name {dilations!r} is not one of '
                f'{sorted(NAMED_DILATIONS)}; give a name or a tuple of ints.')
        return NAMED_DILATIONS[dilations]
    if (not isinstance(dilations, (list, tuple)) or len(dilations) == 0
            or not all(isinstance(d, int) and d >= 1 for d in dilations)):
        raise ValueError('DLV2Head: `dilations` must be a non-empty sequence '
                         f'of positive ints or a name of {sorted(NAMED_DILATIONS)}, '
                         f'got {dilations!r}.')
    return tuple(dilations)


@MODELS.register_module()
class DLV2Head(BaseDecodeHead):
    """DeepLabV2 ASPP classifier: summed dilated 3x3 convolutions to classes.

    Unlike :class:`mmseg.models.ASPPHead` (DeepLabV3), there is no image pooling,
    no feature projection and no ``conv_seg``: each branch predicts class scores
    and the branch outputs are added.

    Args:
        in_channels (int): Channels of the backbone feature map.
        num_classes (int): Number of classes.
        dilations (Sequence[int] | str): Dilation rate of each branch, or a
            name: ``'deeplabv2'`` = (6, 12, 18, 24), ``'deeplabv2red'`` =
            (6, 12). Default: (6, 12, 18, 24).
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
                 dilations: Union[str, Sequence[int]] = (6, 12, 18, 24),
                 init_cfg: ConfigType = dict(
                     type='Normal', std=0.01, override=dict(name='aspp_modules')),
                 **kwargs) -> None:
        for fixed in ('channels', 'dropout_ratio'):
            if fixed in kwargs:
                raise ValueError(
                    f'DLV2Head: `{fixed}` is fixed by the DeepLabV2 classifier; '
                    f'remove it from the head config (got {kwargs[fixed]!r}).')
        dilations = resolve_dilations(dilations)
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
        self.dilations = dilations
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
