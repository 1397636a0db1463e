"""ENet decoder (bottleneck stages 4-5 and the final transposed convolution).

Paszke et al., "ENet: A Deep Neural Network Architecture for Real-Time Semantic
Segmentation", arXiv:1606.02147, 2016. The encoder is
:class:`mmseg_fdacl.models.backbones.ENet`; this head max-unpools with the
encoder's pooling indices. As in the authors' Torch code, the decoder uses
ReLU.
"""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.registry import MODELS
from mmseg.utils import ConfigType

from ..backbones.enet import ENetBottleneck, _conv_bn_act


class ENetUpsamplingBottleneck(nn.Module):
    """Upsampling bottleneck: 1x1 conv + max-unpool, and a transposed conv.

    Main branch: 1x1 conv to ``out_channels`` and max-unpooling with the
    indices of the matching encoder downsampling bottleneck. Extension: 1x1
    projection, 3x3 stride-2 transposed conv, 1x1 expansion, dropout. Both
    branches produce exactly ``output_size``.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (the indices' channels).
        projection_ratio (int): Channel reduction of the projection.
        dropout_ratio (float): Spatial dropout probability.
        norm_cfg (dict): Norm layer config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 *,
                 projection_ratio: int = 4,
                 dropout_ratio: float = 0.1,
                 norm_cfg: ConfigType = dict(type='BN')) -> None:
        super().__init__()
        internal = max(in_channels // projection_ratio, 1)
        self.main_conv = _conv_bn_act(
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            out_channels, norm_cfg, None)
        self.ext_proj = _conv_bn_act(
            nn.Conv2d(in_channels, internal, 1, bias=False), internal,
            norm_cfg, False)
        self.ext_up = nn.ConvTranspose2d(
            internal, internal, 3, stride=2, padding=1, bias=False)
        self.ext_up_bn = build_norm_layer(norm_cfg, internal)[1]
        self.ext_expand = nn.Sequential(
            nn.ReLU(inplace=True),
            _conv_bn_act(
                nn.Conv2d(internal, out_channels, 1, bias=False),
                out_channels, norm_cfg, None), nn.Dropout2d(dropout_ratio))
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, indices: torch.Tensor,
                output_size: Tuple[int, int]) -> torch.Tensor:
        """Upsample ``x`` to ``output_size`` (the encoder's pre-pool size)."""
        main = F.max_unpool2d(
            self.main_conv(x), indices, 2, 2, output_size=output_size)
        ext = self.ext_up(self.ext_proj(x), output_size=output_size)
        ext = self.ext_expand(self.ext_up_bn(ext))
        return self.act(main + ext)


@MODELS.register_module()
class ENetHead(BaseDecodeHead):
    """ENet decoder: upsampling stages 4-5 and a transposed conv classifier.

    Paszke et al., "ENet: A Deep Neural Network Architecture for Real-Time
    Semantic Segmentation", 2016.

    Takes the four outputs of the ``ENet`` backbone (features, indices of
    bottleneck 2.0, indices of bottleneck 1.0, sizes; see its docstring) and
    returns class logits of the image's size. The final transposed conv is the
    classifier, so ``conv_seg`` is removed.

    Args:
        in_channels (int): Channels of the encoder features (ENet's
            ``channels[2]``). Default: 128.
        num_classes (int): Number of classes.
        decoder_channels (Sequence[int]): Widths of stages 4 and 5; they must
            equal the encoder's ``channels[1]`` and ``channels[0]`` (the
            channels of the pooling indices). Default: (64, 16).
        num_stage4_blocks (int): Regular bottlenecks after bottleneck 4.0.
            Default: 2.
        num_stage5_blocks (int): Regular bottlenecks after bottleneck 5.0.
            Default: 1.
        projection_ratio (int): Channel reduction inside bottlenecks.
            Default: 4.
        dropout_ratio (float): Spatial dropout in the decoder bottlenecks.
            Default: 0.1.
        norm_cfg (dict): Norm layer config.
            Default: dict(type='BN', requires_grad=True).
        init_cfg (dict | list[dict]): Initialization. Default: Kaiming on
            convs and transposed convs, ones on norm layers.
        **kwargs: Other :class:`BaseDecodeHead` arguments (``loss_decode``,
            ``align_corners``, ...). ``channels``, ``in_index`` and
            ``input_transform`` are fixed by the ENet contract and refused.
    """

    def __init__(self,
                 in_channels: int = 128,
                 *,
                 num_classes: int,
                 decoder_channels: Sequence[int] = (64, 16),
                 num_stage4_blocks: int = 2,
                 num_stage5_blocks: int = 1,
                 projection_ratio: int = 4,
                 dropout_ratio: float = 0.1,
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 init_cfg: ConfigType = [
                     dict(type='Kaiming', layer=['Conv2d', 'ConvTranspose2d']),
                     dict(type='Constant', val=1,
                          layer=['_BatchNorm', 'GroupNorm'])
                 ],
                 **kwargs) -> None:
        for fixed in ('channels', 'in_index', 'input_transform'):
            if fixed in kwargs:
                raise ValueError(
                    f'ENetHead: `{fixed}` is fixed by the ENet backbone '
                    'contract (features first, then indices and sizes); '
                    f'remove it from the head config (got {kwargs[fixed]!r}).')
        if (not isinstance(decoder_channels, (list, tuple))
                or len(decoder_channels) != 2
                or not all(isinstance(c, int) and c >= 1
                           for c in decoder_channels)):
            raise ValueError('ENetHead: `decoder_channels` must be 2 positive '
                             f'ints (stage 4, stage 5), got '
                             f'{decoder_channels!r}.')
        for name, value in (('num_stage4_blocks', num_stage4_blocks),
                            ('num_stage5_blocks', num_stage5_blocks)):
            if not (isinstance(value, int) and value >= 0):
                raise ValueError(
                    f'ENetHead: `{name}` must be an int >= 0, got {value!r}.')
        if not 0.0 <= dropout_ratio < 1.0:
            raise ValueError('ENetHead: `dropout_ratio` must be in [0, 1), '
                             f'got {dropout_ratio!r}.')
        super().__init__(
            in_channels,
            channels=decoder_channels[-1],
            num_classes=num_classes,
            dropout_ratio=dropout_ratio,
            norm_cfg=norm_cfg,
            in_index=0,
            init_cfg=init_cfg,
            **kwargs)
        # The final transposed conv classifies; an unused 1x1 classifier or
        # dropout would be dead weight (and break DDP without
        # find_unused_parameters).
        del self.conv_seg
        self.dropout = None
        self.decoder_channels = tuple(decoder_channels)
        c4, c5 = self.decoder_channels
        common = dict(
            projection_ratio=projection_ratio,
            dropout_ratio=dropout_ratio,
            norm_cfg=norm_cfg)
        self.up4 = ENetUpsamplingBottleneck(self.in_channels, c4, **common)
        self.stage4 = nn.Sequential(*[
            ENetBottleneck(c4, prelu=False, **common)
            for _ in range(num_stage4_blocks)
        ])
        self.up5 = ENetUpsamplingBottleneck(c4, c5, **common)
        self.stage5 = nn.Sequential(*[
            ENetBottleneck(c5, prelu=False, **common)
            for _ in range(num_stage5_blocks)
        ])
        self.fullconv = nn.ConvTranspose2d(
            c5, self.out_channels, 3, stride=2, padding=1, bias=True)

    def forward(self, inputs: Sequence[torch.Tensor]) -> torch.Tensor:
        """Decode ENet's outputs to logits of the image's size."""
        if len(inputs) != 4:
            raise ValueError(
                'ENetHead expects the 4 outputs of the ENet backbone '
                '(features, indices of 2.0, indices of 1.0, sizes), got '
                f'{len(inputs)} inputs; use it with `ENet` and no neck.')
        x, indices2, indices1, sizes = inputs
        for name, indices, width in (('decoder_channels[0]', indices2,
                                      self.decoder_channels[0]),
                                     ('decoder_channels[1]', indices1,
                                      self.decoder_channels[1])):
            if indices.shape[1] != width:
                raise ValueError(
                    f'ENetHead: `{name}` is {width} but the backbone pooled '
                    f'{indices.shape[1]} channels; set decoder_channels to '
                    "(ENet channels[1], ENet channels[0]).")
        if sizes.ndim != 3 or sizes.shape[1:] != (3, 2):
            raise ValueError(
                'ENetHead: the 4th input must be the ENet sizes tensor '
                f'(N x 3 x 2), got shape {tuple(sizes.shape)}.')
        size2, size1, img_size = (tuple(int(v) for v in row)
                                  for row in sizes[0].tolist())
        x = self.stage4(self.up4(x, indices2, size2))
        x = self.stage5(self.up5(x, indices1, size1))
        return self.fullconv(x, output_size=img_size)
