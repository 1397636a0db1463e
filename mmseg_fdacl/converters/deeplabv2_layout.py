"""Key and shape layout of the reference DeepLabV2 ResNet-101.

The layout is ``model/deeplab.py`` of YanchaoYang/FDA (the AdaptSegNet
layout, shared by ADVENT and DACS): a ResNet-101 trunk whose module paths
equal MMSeg's ``ResNet`` parameter names, and a classifier ``layer5`` of
:data:`NUM_ASPP_BRANCHES` dilated 3x3 convolutions. Nothing here reads or
writes a file; :mod:`mmseg_fdacl.converters.deeplabv2_weights` checks checkpoints
against it.
"""
from collections import OrderedDict
from typing import List, Sequence, Tuple

__all__ = [
    'REFERENCE_LAYOUT', 'RESNET101_BLOCKS', 'INIT_PREFIX', 'NUM_ASPP_BRANCHES',
    'TRUNK_OUT_CHANNELS', 'CITYSCAPES_CLASSES', 'BN_ENTRIES',
    'NUM_BATCHES_TRACKED', 'Shape', 'reference_bn_names',
    'reference_trunk_shapes', 'reference_classifier_keys', 'classifier_target',
    'classifier_shape'
]

#: Where the key layout comes from.
REFERENCE_LAYOUT = 'YanchaoYang/FDA model/deeplab.py'
#: Bottleneck blocks per stage of ResNet-101.
RESNET101_BLOCKS: Tuple[int, int, int, int] = (3, 4, 23, 3)
#: Prefix of every key in the ImageNet initialization file.
INIT_PREFIX = 'Scale.'
#: Dilated 3x3 convolutions of the reference classifier (``layer5``).
NUM_ASPP_BRANCHES = 4
#: Channels of the trunk's output (the classifier's input).
TRUNK_OUT_CHANNELS = 2048
#: Class count of the Cityscapes/GTA5 head (``num_classes`` of the config).
CITYSCAPES_CLASSES = 19
#: Tensors of a BatchNorm besides ``num_batches_tracked``, in saving order.
BN_ENTRIES: Tuple[str, ...] = ('weight', 'bias', 'running_mean', 'running_var')
#: The BatchNorm buffer that checkpoints saved before torch 0.4.1 lack.
NUM_BATCHES_TRACKED = 'num_batches_tracked'

Shape = Tuple[int, ...]


def _stage_planes(stage: int) -> int:
    """Width of the 1x1/3x3 convolutions of stage ``stage`` (0-3)."""
    return 64 * 2**stage


def reference_bn_names(blocks: Sequence[int] = RESNET101_BLOCKS) -> List[str]:
    """Module paths of every BatchNorm of the reference trunk.

    Args:
        blocks (Sequence[int]): Bottleneck blocks per stage.
            Default: :data:`RESNET101_BLOCKS`.

    Returns:
        list[str]: ``['bn1', 'layer1.0.bn1', ..., 'layer1.0.downsample.1',
        ...]`` in the order of :func:`reference_trunk_shapes`.
    """
    names = ['bn1']
    for stage, num in enumerate(blocks):
        for block in range(num):
            prefix = f'layer{stage + 1}.{block}'
            names += [f'{prefix}.bn{i}' for i in (1, 2, 3)]
            if block == 0:
                names.append(f'{prefix}.downsample.1')
    return names


def reference_trunk_shapes(
        blocks: Sequence[int] = RESNET101_BLOCKS) -> 'OrderedDict[str, Shape]':
    """Key -> shape of the reference trunk, without ``num_batches_tracked``.

    The trunk of ``ResNet101`` in ``model/deeplab.py`` (YanchaoYang/FDA):
    ``conv1`` 7x7, ``bn1``, four stages of Bottleneck blocks (1x1, 3x3, 1x1x4
    convolutions, each with BatchNorm) whose first block has a ``downsample``
    (1x1 convolution + BatchNorm).

    Args:
        blocks (Sequence[int]): Bottleneck blocks per stage.
            Default: :data:`RESNET101_BLOCKS`.

    Returns:
        OrderedDict[str, tuple]: Parameter and running-statistic shapes.
    """
    shapes: 'OrderedDict[str, Shape]' = OrderedDict()

    def add_bn(name: str, channels: int) -> None:
        for entry in BN_ENTRIES:
            shapes[f'{name}.{entry}'] = (channels, )

    shapes['conv1.weight'] = (64, 3, 7, 7)
    add_bn('bn1', 64)
    inplanes = 64
    for stage, num in enumerate(blocks):
        planes = _stage_planes(stage)
        for block in range(num):
            prefix = f'layer{stage + 1}.{block}'
            shapes[f'{prefix}.conv1.weight'] = (planes, inplanes, 1, 1)
            add_bn(f'{prefix}.bn1', planes)
            shapes[f'{prefix}.conv2.weight'] = (planes, planes, 3, 3)
            add_bn(f'{prefix}.bn2', planes)
            shapes[f'{prefix}.conv3.weight'] = (planes * 4, planes, 1, 1)
            add_bn(f'{prefix}.bn3', planes * 4)
            if block == 0:
                shapes[f'{prefix}.downsample.0.weight'] = (planes * 4,
                                                           inplanes, 1, 1)
                add_bn(f'{prefix}.downsample.1', planes * 4)
            inplanes = planes * 4
    return shapes


def reference_classifier_keys() -> List[str]:
    """Keys of the reference classifier: ``layer5.conv2d_list.{0..3}.*``."""
    return [
        f'layer5.conv2d_list.{i}.{entry}' for i in range(NUM_ASPP_BRANCHES)
        for entry in ('weight', 'bias')
    ]


def classifier_shape(key: str, num_classes: int) -> Shape:
    """Shape of classifier entry ``key`` for a ``num_classes``-class head.

    Args:
        key (str): One of :func:`reference_classifier_keys`.
        num_classes (int): Classes of the head.

    Returns:
        tuple: ``(num_classes, 2048, 3, 3)`` for a weight,
        ``(num_classes, )`` for a bias.
    """
    if key.endswith('weight'):
        return (num_classes, TRUNK_OUT_CHANNELS, 3, 3)
    return (num_classes, )


def classifier_target(key: str) -> str:
    """Map a classifier key onto ``DLV2Head``.

    Args:
        key (str): ``layer5.conv2d_list.{i}.{p}``.

    Returns:
        str: ``decode_head.aspp_modules.{i}.{p}``.
    """
    branch, entry = key.split('.')[2:4]
    return f'decode_head.aspp_modules.{branch}.{entry}'
