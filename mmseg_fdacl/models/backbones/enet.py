"""ENet encoder (initial block and bottleneck stages 1-3).

Paszke et al., "ENet: A Deep Neural Network Architecture for Real-Time Semantic
Segmentation", arXiv:1606.02147, 2016. The decoder (stages 4-5 and the final
transposed convolution) is :class:`mmseg_fdacl.models.decode_heads.ENetHead`;
it unpools with the max-pooling indices this encoder returns.

Layout of the bottlenecks (Table 1 of the paper): stage 1 is a downsampling
bottleneck followed by regular ones; stages 2 and 3 repeat the pattern
regular, dilated 2, asymmetric 5, dilated 4, regular, dilated 8, asymmetric 5,
dilated 16, stage 2 starting with a downsampling bottleneck. As in the authors'
Torch code, the encoder uses PReLU, and the last 1x1 of a bottleneck has no
activation before the residual sum.
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType

from .init_cfg import resolve_init_cfg


def _act(channels: int, prelu: bool) -> nn.Module:
    """PReLU with one slope per channel (the paper), or ReLU (decoder)."""
    return nn.PReLU(channels) if prelu else nn.ReLU(inplace=True)


def _conv_bn_act(conv: nn.Module, channels: int, norm_cfg: ConfigType,
                 prelu: Optional[bool]) -> nn.Sequential:
    """``conv`` followed by a norm layer and, unless ``prelu`` is None, an
    activation."""
    layers = [conv, build_norm_layer(norm_cfg, channels)[1]]
    if prelu is not None:
        layers.append(_act(channels, prelu))
    return nn.Sequential(*layers)


class ENetInitialBlock(nn.Module):
    """Initial block: a stride-2 3x3 conv concatenated with a 2x2 max-pool.

    The conv gives ``out_channels - in_channels`` maps (13 for RGB and 16
    outputs), the pool keeps the input channels. The pool uses ``ceil_mode`` so
    both branches have ``ceil(H / 2) x ceil(W / 2)`` maps for odd sizes too.

    Args:
        in_channels (int): Image channels.
        out_channels (int): Output channels; must exceed ``in_channels``.
        norm_cfg (dict): Norm layer config.
        prelu (bool): PReLU (True) or ReLU after the concatenation.
    """

    def __init__(self, in_channels: int, out_channels: int,
                 norm_cfg: ConfigType, prelu: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels - in_channels,
            kernel_size=3,
            stride=2,
            padding=1,
            bias=False)
        self.pool = nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)
        self.bn = build_norm_layer(norm_cfg, out_channels)[1]
        self.act = _act(out_channels, prelu)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the ``out_channels`` x ceil(H/2) x ceil(W/2) map."""
        return self.act(self.bn(torch.cat([self.conv(x), self.pool(x)], 1)))


class ENetBottleneck(nn.Module):
    """Regular, dilated or asymmetric ENet bottleneck (residual, same size).

    Extension branch: 1x1 projection to ``channels // projection_ratio``, the
    main convolution (3x3, dilated 3x3, or ``k x 1`` then ``1 x k``), 1x1
    expansion, spatial dropout; then the residual sum and the activation.

    Args:
        channels (int): Input and output channels.
        kind (str): 'regular', 'dilated' or 'asymmetric'.
        dilation (int): Dilation of the 3x3 conv for ``kind='dilated'``.
        kernel_size (int): ``k`` of the asymmetric pair. Default: 5.
        projection_ratio (int): Channel reduction of the projection.
        dropout_ratio (float): Spatial dropout probability.
        norm_cfg (dict): Norm layer config.
        prelu (bool): PReLU (encoder) or ReLU (decoder).
    """

    def __init__(self,
                 channels: int,
                 *,
                 kind: str = 'regular',
                 dilation: int = 1,
                 kernel_size: int = 5,
                 projection_ratio: int = 4,
                 dropout_ratio: float = 0.1,
                 norm_cfg: ConfigType = dict(type='BN'),
                 prelu: bool = True) -> None:
        super().__init__()
        internal = max(channels // projection_ratio, 1)
        if kind == 'asymmetric':
            pad = kernel_size // 2
            main = nn.Sequential(
                _conv_bn_act(
                    nn.Conv2d(internal, internal, (kernel_size, 1),
                              padding=(pad, 0), bias=False), internal,
                    norm_cfg, prelu),
                nn.Conv2d(internal, internal, (1, kernel_size),
                          padding=(0, pad), bias=False))
        elif kind in ('regular', 'dilated'):
            d = dilation if kind == 'dilated' else 1
            main = nn.Conv2d(
                internal, internal, 3, padding=d, dilation=d, bias=False)
        else:
            raise ValueError(f'ENetBottleneck: `kind` must be regular, '
                             f'dilated or asymmetric, got {kind!r}.')
        self.kind = kind
        self.ext = nn.Sequential(
            _conv_bn_act(
                nn.Conv2d(channels, internal, 1, bias=False), internal,
                norm_cfg, prelu),
            _conv_bn_act(main, internal, norm_cfg, prelu),
            _conv_bn_act(
                nn.Conv2d(internal, channels, 1, bias=False), channels,
                norm_cfg, None),
            nn.Dropout2d(dropout_ratio))
        self.act = _act(channels, prelu)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual bottleneck; output has the input's shape."""
        return self.act(x + self.ext(x))


class ENetDownsamplingBottleneck(nn.Module):
    """Downsampling bottleneck: max-pool (with indices) + strided extension.

    Main branch: 2x2 max-pool with ``ceil_mode`` returning the indices, then
    zero channels appended up to ``out_channels``. Extension: 2x2 stride-2
    projection (the input is padded to even size first, so both branches have
    ``ceil(H / 2)`` rows for odd ``H``), 3x3 conv, 1x1 expansion, dropout.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels (>= ``in_channels``).
        projection_ratio (int): Channel reduction of the projection.
        dropout_ratio (float): Spatial dropout probability.
        norm_cfg (dict): Norm layer config.
        prelu (bool): PReLU (True) or ReLU.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 *,
                 projection_ratio: int = 4,
                 dropout_ratio: float = 0.1,
                 norm_cfg: ConfigType = dict(type='BN'),
                 prelu: bool = True) -> None:
        super().__init__()
        internal = max(in_channels // projection_ratio, 1)
        self.out_channels = out_channels
        self.pool = nn.MaxPool2d(
            kernel_size=2, stride=2, ceil_mode=True, return_indices=True)
        self.ext = nn.Sequential(
            _conv_bn_act(
                nn.Conv2d(in_channels, internal, 2, stride=2, bias=False),
                internal, norm_cfg, prelu),
            _conv_bn_act(
                nn.Conv2d(internal, internal, 3, padding=1, bias=False),
                internal, norm_cfg, prelu),
            _conv_bn_act(
                nn.Conv2d(internal, out_channels, 1, bias=False),
                out_channels, norm_cfg, None), nn.Dropout2d(dropout_ratio))
        self.act = _act(out_channels, prelu)

    def forward(
            self,
            x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return the downsampled map and the pooling indices (int64)."""
        h, w = x.shape[-2:]
        main, indices = self.pool(x)
        main = F.pad(main, (0, 0, 0, 0, 0, self.out_channels - x.shape[1]))
        ext = self.ext(F.pad(x, (0, w % 2, 0, h % 2)))
        return self.act(main + ext), indices


@MODELS.register_module()
class ENet(BaseModule):
    """ENet encoder: initial block and bottleneck stages 1-3.

    Paszke et al., "ENet: A Deep Neural Network Architecture for Real-Time
    Semantic Segmentation", 2016. Pair it with ``ENetHead`` (the decoder).

    Output contract (a tuple of four tensors, what ``ENetHead`` consumes):

    0. features: ``N x channels[2] x ceil(H/8) x ceil(W/8)``, the stage-3
       output (any head or auxiliary head with ``in_index=0`` can use it);
    1. pooling indices of downsampling bottleneck 2.0,
       ``N x channels[1] x ceil(H/8) x ceil(W/8)`` (int64);
    2. pooling indices of downsampling bottleneck 1.0,
       ``N x channels[0] x ceil(H/4) x ceil(W/4)`` (int64);
    3. sizes: an ``N x 3 x 2`` int64 CPU tensor, the same ``3 x 2`` rows of
       ``(height, width)`` for every sample: the input of bottleneck 2.0, the
       input of bottleneck 1.0, and the image. Max-unpooling and the final
       transposed conv use them to restore odd sizes exactly.

    Every output has the batch first, so code that splits or concatenates
    backbone outputs along the batch (e.g. one forward pass for two domains)
    keeps them consistent.

    Args:
        in_channels (int): Image channels. Default: 3.
        channels (Sequence[int]): Widths of the initial block, stage 1 and
            stages 2-3. Default: (16, 64, 128).
        num_stage1_blocks (int): Regular bottlenecks after bottleneck 1.0.
            Default: 4.
        dilations (Sequence[int]): The four dilation rates of stages 2 and 3.
            Default: (2, 4, 8, 16).
        asymmetric_kernel_size (int): ``k`` of the ``k x 1`` / ``1 x k``
            bottlenecks (odd). Default: 5.
        projection_ratio (int): Channel reduction inside bottlenecks.
            Default: 4.
        dropout_ratios (Sequence[float]): Spatial dropout of stage 1 and of
            stages 2-3. Default: (0.01, 0.1).
        norm_cfg (dict): Norm layer config (``SyncBN`` for many GPUs).
            Default: dict(type='BN', requires_grad=True).
        pretrained (str, optional): Local checkpoint path; the same as
            ``init_cfg=dict(type='Pretrained', checkpoint=...)``.
        init_cfg (dict | list[dict], optional): Initialization. Default:
            Kaiming on convs, ones/zeros on norm layers.
    """

    def __init__(self,
                 in_channels: int = 3,
                 *,
                 channels: Sequence[int] = (16, 64, 128),
                 num_stage1_blocks: int = 4,
                 dilations: Sequence[int] = (2, 4, 8, 16),
                 asymmetric_kernel_size: int = 5,
                 projection_ratio: int = 4,
                 dropout_ratios: Sequence[float] = (0.01, 0.1),
                 norm_cfg: ConfigType = dict(type='BN', requires_grad=True),
                 pretrained: Optional[str] = None,
                 init_cfg: OptConfigType = None) -> None:
        if not (isinstance(in_channels, int) and in_channels >= 1):
            raise ValueError(f'ENet: `in_channels` must be a positive int, '
                             f'got {in_channels!r}.')
        if (not isinstance(channels, (list, tuple)) or len(channels) != 3
                or not all(isinstance(c, int) for c in channels)
                or not (in_channels < channels[0] <= channels[1]
                        <= channels[2])):
            raise ValueError(
                'ENet: `channels` must be 3 ints (initial, stage 1, stages '
                f'2-3) with in_channels ({in_channels}) < channels[0] <= '
                f'channels[1] <= channels[2], got {channels!r}.')
        if not (isinstance(num_stage1_blocks, int) and num_stage1_blocks >= 0):
            raise ValueError('ENet: `num_stage1_blocks` must be an int >= 0, '
                             f'got {num_stage1_blocks!r}.')
        if (not isinstance(dilations, (list, tuple)) or len(dilations) != 4
                or not all(isinstance(d, int) and d >= 1 for d in dilations)):
            raise ValueError('ENet: `dilations` must be 4 positive ints, got '
                             f'{dilations!r}.')
        if not (isinstance(asymmetric_kernel_size, int)
                and asymmetric_kernel_size >= 1
                and asymmetric_kernel_size % 2 == 1):
            raise ValueError(
                'ENet: `asymmetric_kernel_size` must be a positive odd int, '
                f'got {asymmetric_kernel_size!r}.')
        if not (isinstance(projection_ratio, int) and projection_ratio >= 1):
            raise ValueError('ENet: `projection_ratio` must be an int >= 1, '
                             f'got {projection_ratio!r}.')
        if (not isinstance(dropout_ratios, (list, tuple))
                or len(dropout_ratios) != 2
                or not all(0.0 <= p < 1.0 for p in dropout_ratios)):
            raise ValueError('ENet: `dropout_ratios` must be 2 floats in '
                             f'[0, 1), got {dropout_ratios!r}.')
        init_cfg = resolve_init_cfg('ENet', pretrained, init_cfg)
        super().__init__(init_cfg)
        self.channels = tuple(channels)
        c0, c1, c2 = self.channels
        p1, p23 = dropout_ratios
        common = dict(projection_ratio=projection_ratio, norm_cfg=norm_cfg)

        self.initial = ENetInitialBlock(in_channels, c0, norm_cfg)
        self.down1 = ENetDownsamplingBottleneck(
            c0, c1, dropout_ratio=p1, **common)
        self.stage1 = nn.Sequential(*[
            ENetBottleneck(c1, dropout_ratio=p1, **common)
            for _ in range(num_stage1_blocks)
        ])
        self.down2 = ENetDownsamplingBottleneck(
            c1, c2, dropout_ratio=p23, **common)
        self.stage2 = self._make_stage(c2, dilations, asymmetric_kernel_size,
                                       p23, common)
        self.stage3 = self._make_stage(c2, dilations, asymmetric_kernel_size,
                                       p23, common)

    @staticmethod
    def _make_stage(channels: int, dilations: Sequence[int], kernel: int,
                    dropout_ratio: float, common: dict) -> nn.Sequential:
        """Regular, dil d0, asym, dil d1, regular, dil d2, asym, dil d3."""
        d0, d1, d2, d3 = dilations
        layout = [('regular', 1), ('dilated', d0), ('asymmetric', 1),
                  ('dilated', d1), ('regular', 1), ('dilated', d2),
                  ('asymmetric', 1), ('dilated', d3)]
        blocks: List[nn.Module] = [
            ENetBottleneck(
                channels,
                kind=kind,
                dilation=dilation,
                kernel_size=kernel,
                dropout_ratio=dropout_ratio,
                **common) for kind, dilation in layout
        ]
        return nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Encode ``x`` (N x C x H x W); see the class docstring for the
        four outputs."""
        img_size = x.shape[-2:]
        x = self.initial(x)
        size1 = x.shape[-2:]
        x, indices1 = self.down1(x)
        x = self.stage1(x)
        size2 = x.shape[-2:]
        x, indices2 = self.down2(x)
        x = self.stage3(self.stage2(x))
        # On the CPU: the head reads them as ints without a device sync.
        sizes = torch.tensor([list(size2), list(size1), list(img_size)],
                             dtype=torch.long).repeat(x.shape[0], 1, 1)
        return x, indices2, indices1, sizes
