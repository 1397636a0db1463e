"""DAFormer's decoder: per-level embedding, concatenation, context-aware fusion.

Hoyer et al., "DAFormer: Improving Network Architectures and Training
Strategies for Domain-Adaptive Semantic Segmentation", CVPR 2022. The layout
follows lhoyer/DAFormer ``mmseg/models/decode_heads/daformer_head.py`` (module
names included, so a released checkpoint's head keys load unchanged), built on
MMSeg 1.x's ``ASPPModule`` / ``DepthwiseSeparableASPPModule`` and mmcv's
``ConvModule`` / ``DepthwiseSeparableConvModule``.
"""
from typing import Dict, List, Sequence, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmseg.models.decode_heads.aspp_head import ASPPModule
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.decode_heads.sep_aspp_head import DepthwiseSeparableASPPModule
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType

LAYER_TYPES = ('mlp', 'conv', 'sep_conv', 'aspp')


class LinearEmbedding(nn.Module):
    """SegFormer's per-level linear embedding of a feature map.

    A linear layer over the channels of every pixel (a 1x1 convolution held as
    ``nn.Linear`` named ``proj``, as SegFormer's and DAFormer's ``MLP``).

    Args:
        in_channels (int): Channels of the input map.
        out_channels (int): Embedding channels.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.proj = nn.Linear(in_channels, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(N, C, H, W)`` to ``(N, out_channels, H, W)``."""
        n, _, h, w = x.shape
        y = self.proj(x.flatten(2).transpose(1, 2))
        return y.transpose(1, 2).reshape(n, -1, h, w)


class ASPPWrapper(nn.Module):
    """ASPP fusion: optional image pooling, parallel dilated branches, 3x3 conv.

    As DAFormer's ``ASPPWrapper``: the branch outputs (the pooled image first
    when ``pool`` is on) are concatenated and reduced by a 3x3 ``ConvModule``.

    Args:
        in_channels (int): Input channels.
        channels (int): Channels of every branch and of the output.
        sep (bool): Depthwise separable 3x3 branches (dilation > 1).
        dilations (Sequence[int]): Dilation of each branch (1 is a 1x1 conv).
        pool (bool): Add the global-average-pooling branch.
        norm_cfg (dict | None): Norm of every ConvModule.
        act_cfg (dict | None): Activation of every ConvModule.
        align_corners (bool): ``align_corners`` of the pooled branch's resize.
    """

    def __init__(self,
                 in_channels: int,
                 channels: int,
                 *,
                 sep: bool,
                 dilations: Sequence[int],
                 pool: bool,
                 norm_cfg: OptConfigType,
                 act_cfg: OptConfigType,
                 align_corners: bool = False) -> None:
        super().__init__()
        if (not isinstance(dilations, (list, tuple)) or not dilations
                or not all(isinstance(d, int) and d >= 1 for d in dilations)):
            raise ValueError('ASPPWrapper: `dilations` must be a non-empty '
                             f'sequence of positive ints, got {dilations!r}.')
        self.dilations = tuple(dilations)
        self.align_corners = align_corners
        self.image_pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            ConvModule(in_channels, channels, 1, norm_cfg=norm_cfg,
                       act_cfg=act_cfg)) if pool else None
        aspp = DepthwiseSeparableASPPModule if sep else ASPPModule
        self.aspp_modules = aspp(
            dilations=self.dilations,
            in_channels=in_channels,
            channels=channels,
            conv_cfg=None,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.bottleneck = ConvModule(
            (len(self.dilations) + int(pool)) * channels,
            channels,
            kernel_size=3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Fuse ``x`` into ``channels`` channels at its resolution."""
        outs = []
        if self.image_pool is not None:
            outs.append(
                resize(self.image_pool(x), size=x.shape[2:], mode='bilinear',
                       align_corners=self.align_corners))
        outs.extend(self.aspp_modules(x))
        return self.bottleneck(torch.cat(outs, dim=1))


def build_layer(in_channels: int, out_channels: int, cfg: Dict,
                align_corners: bool, where: str) -> nn.Module:
    """Build one embedding or fusion layer from a DAFormer layer config.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        cfg (dict): ``layer`` one of ``LAYER_TYPES`` (DAFormer's ``type``,
            renamed because ``type`` names registered classes in mmengine
            configs) and that layer's
            arguments: ``mlp`` takes none (``act_cfg``/``norm_cfg`` given as
            None are accepted, as DAFormer's configs write them); ``conv`` and
            ``sep_conv`` take ``kernel_size`` and ConvModule arguments;
            ``aspp`` takes :class:`ASPPWrapper`'s.
        align_corners (bool): The head's ``align_corners`` (for ``aspp``).
        where (str): The argument's name, for errors.
    """
    if not isinstance(cfg, dict) or cfg.get('layer') not in LAYER_TYPES:
        raise ValueError(f'DAFormerHead: `{where}` needs a dict with `layer` '
                         f'in {LAYER_TYPES}, got {cfg!r}.')
    kwargs = {k: v for k, v in cfg.items() if k != 'layer'}
    kind = cfg['layer']
    if kind == 'mlp':
        extra = {k: v for k, v in kwargs.items() if v is not None}
        if extra:
            raise ValueError(f'DAFormerHead: `{where}` of type mlp has no '
                             f'options, got {extra!r}.')
        return LinearEmbedding(in_channels, out_channels)
    if kind in ('conv', 'sep_conv'):
        if 'kernel_size' not in kwargs:
            raise ValueError(
                f'DAFormerHead: `{where}` of type {kind} needs `kernel_size`.')
        module = ConvModule if kind == 'conv' else DepthwiseSeparableConvModule
        return module(in_channels, out_channels,
                      padding=kwargs['kernel_size'] // 2, **kwargs)
    return ASPPWrapper(in_channels, out_channels, align_corners=align_corners,
                       **kwargs)


@MODELS.register_module()
class DAFormerHead(BaseDecodeHead):
    """DAFormer decoder with context-aware feature fusion.

    Every selected level is embedded to ``embed_dims`` channels (the last
    level by ``embed_neck_cfg``, the others by ``embed_cfg``), resized to the
    first input's resolution (1/4 for MiT), concatenated and fused into
    ``channels`` by ``fusion_cfg``; ``cls_seg`` (dropout, 1x1 conv) classifies.
    DAFormer's ``decoder_params`` dict is spelled out as keyword arguments.

    Args:
        embed_dims (int | Sequence[int]): Embedding channels per level.
            Default: 256.
        embed_cfg (dict): Embedding of all levels but the last.
            Default: ``dict(layer='mlp')``.
        embed_neck_cfg (dict | str): Embedding of the last level, or
            ``'same_as_embed_cfg'``. Default: ``dict(layer='mlp')``.
        fusion_cfg (dict): Fusion of the concatenation. Default: DAFormer's
            separable ASPP (dilations 1, 6, 12, 18, no pooling, BN, ReLU).
        **kwargs: :class:`BaseDecodeHead` arguments (``in_channels`` a list,
            ``in_index``, ``channels``, ``num_classes``, ...).
            ``input_transform`` is fixed to ``'multiple_select'``.
    """

    def __init__(self,
                 *,
                 embed_dims: Union[int, Sequence[int]] = 256,
                 embed_cfg: ConfigType = dict(layer='mlp'),
                 embed_neck_cfg: Union[ConfigType, str] = dict(layer='mlp'),
                 fusion_cfg: ConfigType = dict(
                     layer='aspp', sep=True, dilations=(1, 6, 12, 18),
                     pool=False, act_cfg=dict(type='ReLU'),
                     norm_cfg=dict(type='BN', requires_grad=True)),
                 **kwargs) -> None:
        if kwargs.get('input_transform', 'multiple_select') != 'multiple_select':
            raise ValueError('DAFormerHead: `input_transform` is fixed to '
                             "'multiple_select'; remove it from the config.")
        kwargs.pop('input_transform', None)
        super().__init__(input_transform='multiple_select', **kwargs)
        if self.align_corners:
            raise ValueError('DAFormerHead: `align_corners` must be False, as '
                             'in DAFormer.')
        if isinstance(embed_dims, int):
            embed_dims = [embed_dims] * len(self.in_index)
        if len(embed_dims) != len(self.in_index):
            raise ValueError(
                f'DAFormerHead: `embed_dims` {list(embed_dims)} needs one entry '
                f'per level of `in_index` {list(self.in_index)}.')
        if embed_neck_cfg == 'same_as_embed_cfg':
            embed_neck_cfg = embed_cfg
        layers = {}
        for i, in_ch, dim in zip(self.in_index, self.in_channels, embed_dims):
            last = i == self.in_index[-1]
            layers[str(i)] = build_layer(
                in_ch, dim, embed_neck_cfg if last else embed_cfg,
                self.align_corners, 'embed_neck_cfg' if last else 'embed_cfg')
        self.embed_layers = nn.ModuleDict(layers)
        self.fuse_layer = build_layer(sum(embed_dims), self.channels,
                                      fusion_cfg, self.align_corners,
                                      'fusion_cfg')

    def _fused_features(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        """Embedded, resized, concatenated and fused features (before cls)."""
        size = inputs[0].shape[2:]
        feats = []
        for i in self.in_index:
            f = self.embed_layers[str(i)](inputs[i])
            if f.shape[2:] != size:
                f = resize(f, size=size, mode='bilinear',
                           align_corners=self.align_corners)
            feats.append(f)
        return self.fuse_layer(torch.cat(feats, dim=1))

    def forward(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        """Class logits at the first input's resolution."""
        return self.cls_seg(self._fused_features(inputs))


