"""FCN-8s decoder: class scores on pool3, pool4 and fc7 fused by 2x upsampling.

Long, Shelhamer & Darrell, "Fully Convolutional Networks for Semantic
Segmentation", CVPR 2015. The learnable 2x transposed convolutions start as
bilinear interpolation, as in the paper; the last 8x upsampling, which FCN-8s
keeps fixed at bilinear, is MMSeg's own resize of the logits to the input
(``EncoderDecoder.predict`` and the loss both do it).
"""
from typing import List, Sequence

import torch
import torch.nn as nn
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType


def bilinear_kernel(channels: int, kernel_size: int) -> torch.Tensor:
    """Weights making a ``ConvTranspose2d(channels, channels, kernel_size,
    stride=kernel_size // 2)`` upsample each channel bilinearly.

    The per-channel 2-D kernel is the outer product of the triangle filter
    ``1 - |i - c| / f`` with ``f = ceil(k / 2)`` (FCN's ``upsample_filt``).
    """
    factor = (kernel_size + 1) // 2
    center = factor - 1 if kernel_size % 2 == 1 else factor - 0.5
    og = torch.arange(kernel_size, dtype=torch.float32)
    filt1d = 1 - (og - center).abs() / factor
    weight = torch.zeros(channels, channels, kernel_size, kernel_size)
    weight[range(channels), range(channels)] = filt1d[:, None] * filt1d[None]
    return weight


@MODELS.register_module()
class FCN8sHead(BaseDecodeHead):
    """FCN-8s head: score layers on pool3/pool4/fc7 and skip-fused upsampling.

    Long et al., "Fully Convolutional Networks for Semantic Segmentation",
    CVPR 2015. ``score_fr`` scores fc7; a 2x transposed conv upsamples it to
    pool4's grid, where ``score_pool4`` is added; the sum is upsampled 2x again
    and ``score_pool3`` is added. The logits are at pool3's resolution (1/8);
    MMSeg resizes them to the image. The score layers classify, so there is
    no ``conv_seg``; dropout lives in the backbone's fc6/fc7.

    Each upsampled map is cropped to the next skip map's size, which is
    ``ceil(size / 2)`` for ``VGG16``'s ``ceil_mode`` pools, so odd input
    sizes work.

    Args:
        in_channels (Sequence[int]): Channels of pool3, pool4 and fc7.
            Default: (256, 512, 4096) (VGG16 with ``base_channels=64``).
        num_classes (int): Number of classes.
        in_index (Sequence[int]): Backbone outputs holding pool3, pool4 and
            fc7. Default: (0, 1, 2) (VGG16's default ``out_indices``).
        init_cfg (dict): Initialization of the score layers. Default:
            Normal(std=0.01) (the transposed convs start bilinear).
        **kwargs: Other :class:`BaseDecodeHead` arguments (``loss_decode``,
            ``align_corners``, ...). ``channels``, ``dropout_ratio`` and
            ``input_transform`` are fixed by the architecture and refused.
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 512, 4096),
                 *,
                 num_classes: int,
                 in_index: Sequence[int] = (0, 1, 2),
                 init_cfg: ConfigType = dict(
                     type='Normal',
                     std=0.01,
                     override=[
                         dict(name='score_pool3'),
                         dict(name='score_pool4'),
                         dict(name='score_fr')
                     ]),
                 **kwargs) -> None:
        for fixed in ('channels', 'dropout_ratio', 'input_transform'):
            if fixed in kwargs:
                raise ValueError(
                    f'FCN8sHead: `{fixed}` is fixed by FCN-8s; remove it '
                    f'from the head config (got {kwargs[fixed]!r}).')
        for name, value in (('in_channels', in_channels),
                            ('in_index', in_index)):
            if (not isinstance(value, (list, tuple)) or len(value) != 3
                    or not all(isinstance(v, int) for v in value)):
                raise ValueError(
                    f'FCN8sHead: `{name}` must be 3 ints (pool3, pool4, '
                    f'fc7), got {value!r}.')
        super().__init__(
            list(in_channels),
            channels=num_classes,
            num_classes=num_classes,
            dropout_ratio=0.0,
            in_index=list(in_index),
            input_transform='multiple_select',
            init_cfg=init_cfg,
            **kwargs)
        # The score layers classify; the 1x1 `conv_seg` would be unused.
        del self.conv_seg
        c3, c4, c7 = self.in_channels
        n = self.out_channels
        self.score_fr = nn.Conv2d(c7, n, 1)
        self.score_pool4 = nn.Conv2d(c4, n, 1)
        self.score_pool3 = nn.Conv2d(c3, n, 1)
        self.upscore2 = nn.ConvTranspose2d(n, n, 4, stride=2, bias=False)
        self.upscore_pool4 = nn.ConvTranspose2d(n, n, 4, stride=2, bias=False)
        with torch.no_grad():
            self.upscore2.weight.copy_(bilinear_kernel(n, 4))
            self.upscore_pool4.weight.copy_(bilinear_kernel(n, 4))

    @staticmethod
    def _up_and_fuse(up: nn.ConvTranspose2d, coarse: torch.Tensor,
                     skip: torch.Tensor, name: str) -> torch.Tensor:
        """Upsample ``coarse`` 2x, crop it onto ``skip``'s grid and add."""
        h, w = skip.shape[-2:]
        ch, cw = coarse.shape[-2:]
        if not (0 <= 2 * ch - h <= 1 and 0 <= 2 * cw - w <= 1):
            raise ValueError(
                f'FCN8sHead: {name} is {tuple(coarse.shape[-2:])} but must '
                f'be half the size of the finer map {(h, w)}; FCN-8s needs '
                'VGG16 with strides=(2, 2, 2, 2, 2) and '
                'out_indices=(2, 3, 5).')
        # A 4x4 stride-2 transposed conv gives 2s + 2 samples; as in FCN,
        # drop the first and keep the next `h` (output pixel i then sits at
        # input position (i - 0.5) / 2, the bilinear alignment).
        return up(coarse)[..., 1:1 + h, 1:1 + w] + skip

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        """Return class logits at pool3's resolution."""
        pool3, pool4, fc7 = self._transform_inputs(inputs)
        x = self._up_and_fuse(self.upscore2, self.score_fr(fc7),
                              self.score_pool4(pool4), 'fc7')
        return self._up_and_fuse(self.upscore_pool4, x,
                                 self.score_pool3(pool3), 'pool4')
