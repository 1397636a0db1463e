"""VGG16 trunk for segmentation: conv1-conv5 plus fc6/fc7 as convolutions.

Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015; used fully convolutionally by FCN (Long et al.,
CVPR 2015) and DeepLab-LargeFOV (Chen et al., ICLR 2015). MMSeg 1.x registers
no VGG (mmcv's ``mmcv.cnn.VGG`` has no fc6/fc7, no width option and no
``init_cfg``), hence this module.

``features`` is laid out index for index like torchvision's ``vgg16`` /
``vgg16_bn`` ``features``, so an ImageNet checkpoint loads by name; its
``classifier.0`` / ``classifier.3`` linear weights are reshaped into ``fc6`` /
``fc7`` when the shapes allow it (FCN's "convolutionalization").
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType

from .init_cfg import resolve_init_cfg

# Convolutions per stage of VGG16 (configuration D of the paper).
VGG16_STAGE_BLOCKS = (2, 2, 3, 3, 3)


def convert_vgg_classifier(state_dict: Dict[str, torch.Tensor],
                           fc6_shape: torch.Size,
                           fc7_shape: torch.Size,
                           prefix: str = '') -> List[str]:
    """Reshape torchvision's VGG classifier into ``fc6`` / ``fc7`` in place.

    ``classifier.0.weight`` (``O x C*k*k``) becomes ``fc6.weight``
    (``O x C x k x k``) and ``classifier.3.weight`` (``O x I``) becomes
    ``fc7.weight`` (``O x I x 1 x 1``), biases are renamed, when the element
    counts match the target shapes. ``classifier.6`` (the 1000-way ImageNet
    classifier) is dropped.

    Args:
        state_dict (dict[str, Tensor]): Checkpoint entries, edited in place.
        fc6_shape (torch.Size): Shape of the model's ``fc6.weight``.
        fc7_shape (torch.Size): Shape of the model's ``fc7.weight``.
        prefix (str): Key prefix of the VGG module in ``state_dict``.

    Returns:
        list[str]: The ``fc6`` / ``fc7`` keys that were written.
    """
    written = []
    for src, dst, shape in (('classifier.0', 'fc6', fc6_shape),
                            ('classifier.3', 'fc7', fc7_shape)):
        w_key, b_key = f'{prefix}{src}.weight', f'{prefix}{src}.bias'
        if w_key not in state_dict or f'{prefix}{dst}.weight' in state_dict:
            continue
        weight = state_dict[w_key]
        if weight.numel() != torch.Size(shape).numel():
            continue  # e.g. LargeFOV's 1024-wide 3x3 fc6: left to a warning
        state_dict[f'{prefix}{dst}.weight'] = weight.reshape(shape)
        del state_dict[w_key]
        written.append(f'{prefix}{dst}.weight')
        if b_key in state_dict:
            state_dict[f'{prefix}{dst}.bias'] = state_dict.pop(b_key)
            written.append(f'{prefix}{dst}.bias')
    for key in (f'{prefix}classifier.6.weight', f'{prefix}classifier.6.bias'):
        state_dict.pop(key, None)
    return written


def _check_widths(in_channels: int, base_channels: int, fc_channels: int,
                  fc6_kernel_size: int, fc6_dilation: int) -> None:
    """Refuse :class:`VGG16` channel and fc6 arguments out of range.

    Args:
        in_channels (int): Image channels.
        base_channels (int): Width of conv1.
        fc_channels (int): Width of fc6 and fc7.
        fc6_kernel_size (int): Kernel of fc6; positive and odd.
        fc6_dilation (int): Dilation of fc6.

    Raises:
        ValueError: Naming the first argument out of range.
    """
    for name, value in (('in_channels', in_channels),
                        ('base_channels', base_channels),
                        ('fc_channels', fc_channels),
                        ('fc6_dilation', fc6_dilation)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f'VGG16: `{name}` must be a positive int, '
                             f'got {value!r}.')
    if not (isinstance(fc6_kernel_size, int) and fc6_kernel_size >= 1
            and fc6_kernel_size % 2 == 1):
        raise ValueError('VGG16: `fc6_kernel_size` must be a positive '
                         f'odd int, got {fc6_kernel_size!r}.')


def _check_stages(strides: Sequence[int], dilations: Sequence[int]) -> None:
    """Refuse :class:`VGG16` per-stage strides or dilations out of range.

    Args:
        strides (Sequence[int]): Stride of pool1-pool5, each 1 or 2.
        dilations (Sequence[int]): Dilation of conv1-conv5, each >= 1.

    Raises:
        ValueError: Naming the first argument out of range.
    """
    if (not isinstance(strides, (list, tuple)) or len(strides) != 5
            or not all(s in (1, 2) for s in strides)):
        raise ValueError('VGG16: `strides` must be 5 values, each 1 or 2 '
                         f'(pool1-pool5), got {strides!r}.')
    if (not isinstance(dilations, (list, tuple)) or len(dilations) != 5
            or not all(isinstance(d, int) and d >= 1 for d in dilations)):
        raise ValueError('VGG16: `dilations` must be 5 positive ints '
                         f'(conv1-conv5), got {dilations!r}.')


def _check_outputs(dropout_ratio: float, out_indices: Sequence[int],
                   frozen_stages: int) -> None:
    """Refuse :class:`VGG16` dropout, output or freezing arguments.

    Args:
        dropout_ratio (float): Dropout after fc6 and fc7, in [0, 1).
        out_indices (Sequence[int]): Non-empty, each in [0, 5].
        frozen_stages (int): In [-1, 5].

    Raises:
        ValueError: Naming the first argument out of range.
    """
    if not 0.0 <= dropout_ratio < 1.0:
        raise ValueError('VGG16: `dropout_ratio` must be in [0, 1), got '
                         f'{dropout_ratio!r}.')
    if (not isinstance(out_indices, (list, tuple)) or not out_indices
            or not all(isinstance(i, int) and 0 <= i <= 5
                       for i in out_indices)):
        raise ValueError('VGG16: `out_indices` must be a non-empty '
                         'sequence of ints in [0, 5] (0-4 = pool1-pool5, '
                         f'5 = fc7), got {out_indices!r}.')
    if not (isinstance(frozen_stages, int) and -1 <= frozen_stages <= 5):
        raise ValueError('VGG16: `frozen_stages` must be an int in '
                         f'[-1, 5], got {frozen_stages!r}.')


def _make_stage(in_channels: int, width: int, blocks: int, stride: int,
                dilation: int, norm_cfg: OptConfigType) -> List[nn.Module]:
    """Layers of one stage: ``blocks`` x (3x3 conv[, norm], ReLU), then pool.

    Args:
        in_channels (int): Channels entering the stage.
        width (int): Channels of its convolutions.
        blocks (int): Convolutions in the stage.
        stride (int): 2 for a 2x2 ``ceil_mode`` pool (FCN), 1 for a 3x3 pool
            with padding 1 (DeepLab).
        dilation (int): Dilation (and padding) of the convolutions.
        norm_cfg (dict, optional): Norm layer after each conv; None for
            none.

    Returns:
        list[nn.Module]: The layers, in torchvision's ``features`` order.
    """
    layers: List[nn.Module] = []
    channels = in_channels
    for _ in range(blocks):
        layers.append(
            nn.Conv2d(channels, width, 3, padding=dilation, dilation=dilation))
        if norm_cfg is not None:
            layers.append(build_norm_layer(norm_cfg, width)[1])
        layers.append(nn.ReLU(inplace=True))
        channels = width
    if stride == 2:
        layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))
    else:
        layers.append(nn.MaxPool2d(3, stride=1, padding=1))
    return layers


@MODELS.register_module()
class VGG16(BaseModule):
    """VGG16 backbone with fc6/fc7 as convolutions (FCN / DeepLab-LargeFOV).

    Simonyan & Zisserman, ICLR 2015. Stage ``i`` (0-4) is ``conv{i+1}_x``
    followed by ``pool{i+1}``; a pool of stride 2 is 2x2 with ``ceil_mode``
    (FCN), one of stride 1 is 3x3 with padding 1 (DeepLab). Index 5 is
    ``fc7``: ``fc6`` (``fc6_kernel_size`` conv, dilation ``fc6_dilation``),
    ReLU, dropout, ``fc7`` (1x1), ReLU, dropout.

    Presets:

    * FCN-8s (default): strides (2, 2, 2, 2, 2), fc6 7x7, 4096 channels,
      ``out_indices=(2, 3, 5)`` -> pool3 (1/8), pool4 (1/16), fc7 (1/32).
    * DeepLab-LargeFOV: ``strides=(2, 2, 2, 1, 1)``,
      ``dilations=(1, 1, 1, 1, 2)``, ``fc6_kernel_size=3``,
      ``fc6_dilation=12``, ``fc_channels=1024``, ``out_indices=(5, )``
      -> fc7 at 1/8.

    Args:
        in_channels (int): Image channels. Default: 3.
        base_channels (int): Width of conv1; stages have 1, 2, 4, 8, 8 times
            it. Default: 64.
        fc_channels (int): Width of fc6 and fc7. Default: 4096.
        fc6_kernel_size (int): Kernel of fc6 (odd; padded to keep the size).
            Default: 7.
        fc6_dilation (int): Dilation of fc6. Default: 1.
        strides (Sequence[int]): Stride (1 or 2) of pool1-pool5.
            Default: (2, 2, 2, 2, 2).
        dilations (Sequence[int]): Dilation of the convs of each stage.
            Default: (1, 1, 1, 1, 1).
        dropout_ratio (float): Dropout after fc6 and fc7. Default: 0.5.
        out_indices (Sequence[int]): Outputs to return, in this order:
            0-4 = pool1-pool5, 5 = fc7. Default: (2, 3, 5).
        norm_cfg (dict, optional): Norm layer after each conv of conv1-conv5
            (torchvision's ``vgg16_bn`` layout); None for plain VGG16.
            Default: None.
        frozen_stages (int): Stages 0..frozen_stages-1 (conv1..) get no
            gradient and stay in eval mode; -1 freezes nothing. Default: -1.
        pretrained (str, optional): Local checkpoint path; the same as
            ``init_cfg=dict(type='Pretrained', checkpoint=...)``.
        init_cfg (dict | list[dict], optional): Initialization. Default:
            Kaiming on convs, ones on norm layers.
    """

    def __init__(self,
                 in_channels: int = 3,
                 *,
                 base_channels: int = 64,
                 fc_channels: int = 4096,
                 fc6_kernel_size: int = 7,
                 fc6_dilation: int = 1,
                 strides: Sequence[int] = (2, 2, 2, 2, 2),
                 dilations: Sequence[int] = (1, 1, 1, 1, 1),
                 dropout_ratio: float = 0.5,
                 out_indices: Sequence[int] = (2, 3, 5),
                 norm_cfg: OptConfigType = None,
                 frozen_stages: int = -1,
                 pretrained: Optional[str] = None,
                 init_cfg: OptConfigType = None) -> None:
        _check_widths(in_channels, base_channels, fc_channels,
                      fc6_kernel_size, fc6_dilation)
        _check_stages(strides, dilations)
        _check_outputs(dropout_ratio, out_indices, frozen_stages)
        init_cfg = resolve_init_cfg('VGG16', pretrained, init_cfg)
        super().__init__(init_cfg)
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.stage_widths = tuple(
            base_channels * m for m in (1, 2, 4, 8, 8))
        # [start, end) of each stage in `features`, pool included.
        self.stage_ranges: List[Tuple[int, int]] = []
        self.features = self._make_features(in_channels, strides, dilations,
                                            norm_cfg)
        self._make_fc_layers(self.stage_widths[-1], fc_channels,
                             fc6_kernel_size, fc6_dilation, dropout_ratio)
        self.out_channels = tuple(
            self.stage_widths[i] if i < 5 else fc_channels
            for i in self.out_indices)
        self._freeze_stages()

    def _make_features(self, in_channels: int, strides: Sequence[int],
                       dilations: Sequence[int],
                       norm_cfg: OptConfigType) -> nn.Sequential:
        """Build conv1-conv5 with their pools, recording ``stage_ranges``.

        Args:
            in_channels (int): Image channels.
            strides (Sequence[int]): Stride (1 or 2) of pool1-pool5.
            dilations (Sequence[int]): Dilation of the convs of each stage.
            norm_cfg (dict, optional): Norm layer after each conv.

        Returns:
            nn.Sequential: The layers, indexed like torchvision's
            ``vgg16(_bn).features``.
        """
        layers: List[nn.Module] = []
        channels = in_channels
        for width, blocks, stride, dilation in zip(
                self.stage_widths, VGG16_STAGE_BLOCKS, strides, dilations):
            start = len(layers)
            layers += _make_stage(channels, width, blocks, stride, dilation,
                                  norm_cfg)
            self.stage_ranges.append((start, len(layers)))
            channels = width
        return nn.Sequential(*layers)

    def _make_fc_layers(self, in_channels: int, fc_channels: int,
                        fc6_kernel_size: int, fc6_dilation: int,
                        dropout_ratio: float) -> None:
        """Build ``fc6`` and ``fc7`` (convolutions) with ReLU and dropout.

        Args:
            in_channels (int): Channels of pool5.
            fc_channels (int): Width of fc6 and fc7.
            fc6_kernel_size (int): Kernel of fc6 (odd).
            fc6_dilation (int): Dilation of fc6.
            dropout_ratio (float): Dropout after fc6 and fc7.
        """
        self.fc6 = nn.Conv2d(
            in_channels,
            fc_channels,
            fc6_kernel_size,
            padding=fc6_dilation * (fc6_kernel_size // 2),
            dilation=fc6_dilation)
        self.fc7 = nn.Conv2d(fc_channels, fc_channels, 1)
        self.fc6_act = nn.ReLU(inplace=True)
        self.fc6_drop = nn.Dropout2d(dropout_ratio)
        self.fc7_act = nn.ReLU(inplace=True)
        self.fc7_drop = nn.Dropout2d(dropout_ratio)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata,
                              strict, missing_keys, unexpected_keys,
                              error_msgs):
        # An ImageNet checkpoint from torchvision stores fc6/fc7 as Linear
        # layers; reshape them before the children read their keys.
        convert_vgg_classifier(state_dict, self.fc6.weight.shape,
                               self.fc7.weight.shape, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata,
                                      strict, missing_keys, unexpected_keys,
                                      error_msgs)

    def _freeze_stages(self) -> None:
        """Stop gradients and norm statistics of the frozen stages."""
        modules = [self.features[s:e] for s, e in self.stage_ranges]
        modules.append(nn.ModuleList([self.fc6, self.fc7]))
        for stage in modules[:max(self.frozen_stages, 0)]:
            stage.eval()
            for param in stage.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'VGG16':
        """Set train mode, keeping frozen stages in eval mode."""
        super().train(mode)
        if mode:
            self._freeze_stages()
        return self

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """Return the maps of ``out_indices`` (pool1-pool5, fc7)."""
        outs = {}
        for i, (start, end) in enumerate(self.stage_ranges):
            for layer in self.features[start:end]:
                x = layer(x)
            outs[i] = x
        if 5 in self.out_indices:
            x = self.fc6_drop(self.fc6_act(self.fc6(x)))
            outs[5] = self.fc7_drop(self.fc7_act(self.fc7(x)))
        return tuple(outs[i] for i in self.out_indices)
