"""Convert DeepLabV2 ResNet-101 reference checkpoints to MMSeg checkpoints.

Two files are handled, both plain dicts of tensors:

* the ImageNet initialization that FDA, ADVENT and DACS load for DeepLabV2
  (``DeepLab_resnet_pretrained_init-f81d91e8.pth``): keys ``Scale.<name>``,
  with a classifier ``Scale.layer5.*`` whose class count is the init's own;
* FDA's released GTA5 -> Cityscapes models (``gta2city_LB_0_01.pth`` etc.):
  ``model.state_dict()`` of the same network, keys ``<name>``, 19 classes.

``<name>`` is the module path in ``model/deeplab.py`` of YanchaoYang/FDA (the
AdaptSegNet layout), which equals MMSeg's ``ResNet`` parameter names, so the
trunk maps one to one onto :class:`~mmseg_fdacl.models.backbones.
DeepLabV2ResNet` and ``layer5.conv2d_list.{i}`` onto ``DLV2Head``'s
``aspp_modules.{i}``. Every key, and every shape, is checked against the
layout; anything else is refused with an error that names the key.

Command line: ``tools/model_converters/deeplabv2_reference.py``.
"""
import hashlib
import io
import os.path as osp
import pickle
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import torch

from .atomic_io import atomic_write

__all__ = [
    'REFERENCE_LAYOUT', 'RESNET101_BLOCKS', 'ReferenceCheckpointError',
    'ConversionReport', 'reference_trunk_shapes', 'reference_bn_names',
    'reference_classifier_keys', 'load_reference_state_dict',
    'unwrap_state_dict', 'convert_init_state_dict', 'convert_fda_state_dict',
    'save_mmseg_checkpoint', 'convert_checkpoint'
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

_CONVERTER = 'tools/model_converters/deeplabv2_reference.py'
_BN_ENTRIES = ('weight', 'bias', 'running_mean', 'running_var')
_NBT = 'num_batches_tracked'
_NOT_DLV2 = (f'this is not a DeepLabV2 ResNet-101 checkpoint in the '
             f'{REFERENCE_LAYOUT} layout')
_MAX_LISTED = 5

Shape = Tuple[int, ...]


class ReferenceCheckpointError(ValueError):
    """A checkpoint that does not match the reference DeepLabV2 layout."""


@dataclass
class ConversionReport:
    """What a conversion wrote.

    Attributes:
        mode (str): ``'init'`` or ``'fda'``.
        src (str): Source checkpoint.
        dst (str): Written MMSeg checkpoint.
        num_tensors (int): Entries of the written ``state_dict``.
        source_classes (int, optional): Class count of the source's
            classifier (``layer5``), None when it has none.
        dropped (list[str]): Source keys not written (the init's classifier).
        filled_num_batches_tracked (int): BatchNorm ``num_batches_tracked``
            buffers the source lacked (older torch), written as 0.
        usage (str): How the written file is meant to be loaded.
    """

    mode: str
    src: str
    dst: str
    num_tensors: int
    source_classes: Optional[int]
    dropped: List[str] = field(default_factory=list)
    filled_num_batches_tracked: int = 0
    usage: str = ''


def _stage_planes(stage: int) -> int:
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
        for entry in _BN_ENTRIES:
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


def _classifier_target(key: str) -> str:
    """``layer5.conv2d_list.{i}.{p}`` -> ``decode_head.aspp_modules.{i}.{p}``.
    """
    branch, entry = key.split('.')[2:4]
    return f'decode_head.aspp_modules.{branch}.{entry}'


def _fmt_shape(shape: Sequence[int]) -> str:
    return '(' + ', '.join(str(int(s))
                           for s in shape) + (',)' if len(shape) == 1 else ')')


def _listing(items: Sequence[str]) -> str:
    shown = ', '.join(items[:_MAX_LISTED])
    more = len(items) - _MAX_LISTED
    return shown + (f' and {more} more' if more > 0 else '')


def _hint(keys: Sequence[str], mode: str) -> str:
    """What the key set looks like, and what to do about it."""
    keyset = set(keys)
    if any(k.startswith(('backbone.', 'decode_head.')) for k in keys):
        return ('Its keys start with backbone./decode_head.: it is already an '
                'MMSeg checkpoint; give it to tools/test.py or load_from '
                'directly instead of converting it.')
    if mode == 'fda' and any(k.startswith(INIT_PREFIX) for k in keys):
        return (f'Its keys start with {INIT_PREFIX!r}: it looks like the '
                'ImageNet initialization; convert it with the `init` '
                'command instead.')
    if mode == 'init' and not any(k.startswith(INIT_PREFIX) for k in keys):
        if 'layer5.conv2d_list.0.weight' in keyset:
            return (f'No key starts with {INIT_PREFIX!r}: it looks like a '
                    'trained model (e.g. an FDA release, '
                    'gta2city_LB_0_01.pth); convert it with the `fda` command '
                    'instead.')
        return (f'The initialization file '
                f'(DeepLab_resnet_pretrained_init-f81d91e8.pth) has keys '
                f'{INIT_PREFIX}<name>; none of these do.')
    if 'fc.weight' in keyset:
        return ('fc.* keys belong to an ImageNet classification ResNet (e.g. '
                'torchvision, pytorch style with the stride in the 3x3 '
                'convolution), not to DeepLabV2: convert '
                'DeepLab_resnet_pretrained_init-f81d91e8.pth with the `init` '
                'command instead.')
    if any(k.startswith('stem.') for k in keys):
        return ('stem.* keys belong to a deep-stem ResNet (V1c), not to the '
                'DeepLabV2 7x7 stem.')
    return ('Convert only DeepLab_resnet_pretrained_init-f81d91e8.pth (`init`)'
            ' or an FDA DeepLabV2 release such as gta2city_LB_0_01.pth '
            '(`fda`).')


def unwrap_state_dict(checkpoint: Any,
                      source: str = 'checkpoint') -> 'OrderedDict[str, Any]':
    """Return the tensor dict inside ``checkpoint``, without ``module.``.

    Accepts a plain ``state_dict``, one wrapped as ``{'state_dict': ...}``
    (MMSeg/mmengine) and keys saved from ``nn.DataParallel`` /
    ``DistributedDataParallel`` (``module.`` prefix).

    Args:
        checkpoint: What ``torch.load`` returned.
        source (str): Name of the file, for error messages.

    Returns:
        OrderedDict[str, Tensor]: Keys in the source's order.

    Raises:
        ReferenceCheckpointError: If it is not a dict of tensors.
    """
    if isinstance(checkpoint, Mapping) and isinstance(
            checkpoint.get('state_dict'), Mapping):
        checkpoint = checkpoint['state_dict']
    if not isinstance(checkpoint, Mapping):
        raise ReferenceCheckpointError(
            f'{source}: expected a dict of tensors (a state_dict), got '
            f'{type(checkpoint).__name__}; {_NOT_DLV2}.')
    out: 'OrderedDict[str, Any]' = OrderedDict()
    for key, value in checkpoint.items():
        if not isinstance(key, str):
            raise ReferenceCheckpointError(
                f'{source}: key {key!r} is not a string; {_NOT_DLV2}.')
        if not isinstance(value, torch.Tensor):
            raise ReferenceCheckpointError(
                f'{source}: entry {key!r} is a {type(value).__name__}, not a '
                f'tensor; {_NOT_DLV2} (those hold only tensors, or '
                "{'state_dict': tensors}).")
        name = key[len('module.'):] if key.startswith('module.') else key
        if name in out:
            raise ReferenceCheckpointError(
                f'{source}: {key!r} duplicates another key once the module. '
                'prefix is removed; re-save the checkpoint with one copy of '
                'each tensor.')
        out[name] = value
    if not out:
        raise ReferenceCheckpointError(f'{source}: the checkpoint holds no '
                                       f'tensors; {_NOT_DLV2}.')
    return out


def load_reference_state_dict(path: str) -> 'OrderedDict[str, Any]':
    """Load a reference checkpoint safely (``weights_only=True``) on CPU.

    Args:
        path (str): ``.pth`` file.

    Returns:
        OrderedDict[str, Tensor]: See :func:`unwrap_state_dict`.

    Raises:
        FileNotFoundError: If ``path`` does not exist.
        ReferenceCheckpointError: If it holds anything but tensors, or is not
            a torch file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'source checkpoint {path!r} not found. Nothing is downloaded: '
            'place DeepLab_resnet_pretrained_init-f81d91e8.pth or an FDA '
            'release (gta2city_LB_0_01.pth, ...) there first.')
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        first = next((line.strip() for line in str(err).splitlines()
                      if 'GLOBAL' in line or 'Unsupported' in line), str(err))
        raise ReferenceCheckpointError(
            f'refused to load {path!r}: it holds Python objects besides '
            f'tensors ({first}). The reference files are plain tensor dicts; '
            'if you trust this file, load it once with weights_only=False and '
            're-save only its state_dict.') from err
    except (RuntimeError, EOFError, OSError) as err:
        raise ReferenceCheckpointError(
            f'could not read {path!r} as a torch checkpoint ({err}); is the '
            'download complete?') from err
    return unwrap_state_dict(checkpoint, source=path)


def _convert(state_dict: Mapping[str, torch.Tensor], *, mode: str,
             num_classes: int, keep_classifier: bool,
             source: str) -> Tuple['OrderedDict[str, torch.Tensor]', Dict]:
    """Check ``state_dict`` against the layout and rename it.

    ``mode='fda'``: keys ``<name>``, classifier required, output
    ``backbone.<name>`` + ``decode_head.aspp_modules.*``. ``mode='init'``:
    keys ``Scale.<name>``, classifier optional; output ``<name>`` (trunk only)
    or, with ``keep_classifier``, the ``fda`` layout.
    """
    if mode == 'init':
        stripped: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
        unprefixed = []
        for key, value in state_dict.items():
            if key.startswith(INIT_PREFIX):
                stripped[key[len(INIT_PREFIX):]] = value
            else:
                unprefixed.append(key)
        if unprefixed:
            raise ReferenceCheckpointError(
                f'{source}: {len(unprefixed)} key(s) lack the '
                f'{INIT_PREFIX!r} prefix of the ImageNet initialization and '
                f'map nowhere: {_listing(unprefixed)}; {_NOT_DLV2}. '
                f'{_hint(list(state_dict), mode)}')
        names = stripped
        shown = {k[len(INIT_PREFIX):]: k for k in state_dict}
    else:
        names = OrderedDict(state_dict)
        shown = {k: k for k in state_dict}

    expected = reference_trunk_shapes()
    bn_names = set(reference_bn_names())
    classifier_keys = reference_classifier_keys()
    unknown, mismatched = [], []
    for name, value in names.items():
        shape = tuple(value.shape)
        if name in expected:
            if shape != expected[name]:
                mismatched.append(
                    f'{shown[name]!r} is {_fmt_shape(shape)} in the '
                    f'checkpoint but {_fmt_shape(expected[name])} in '
                    'DeepLabV2ResNet-101')
        elif name.endswith('.' + _NBT) and name[:-len(_NBT) - 1] in bn_names:
            if value.numel() != 1:
                mismatched.append(
                    f'{shown[name]!r} is {_fmt_shape(shape)} in the '
                    'checkpoint but a scalar in DeepLabV2ResNet-101')
        elif name not in classifier_keys:
            unknown.append(f'{shown[name]!r} {_fmt_shape(shape)}')

    prefix = INIT_PREFIX if mode == 'init' else ''
    missing = [
        f'{prefix + k!r} {_fmt_shape(shape)}' for k, shape in expected.items()
        if k not in names
    ]
    present_cls = [k for k in classifier_keys if k in names]
    if mode == 'fda' or present_cls:
        missing += [
            repr(prefix + k) for k in classifier_keys if k not in names
        ]

    source_classes: Optional[int] = None
    if len(present_cls) == len(classifier_keys):
        first = names[classifier_keys[0]]
        source_classes = int(first.shape[0])
        for key in classifier_keys:
            shape = tuple(names[key].shape)
            want = ((source_classes, TRUNK_OUT_CHANNELS, 3,
                     3) if key.endswith('weight') else (source_classes, ))
            if shape != want:
                mismatched.append(
                    f'{prefix + key!r} is {_fmt_shape(shape)} in the '
                    f'checkpoint but {_fmt_shape(want)} for a '
                    f'{source_classes}-class DLV2Head (the shape of '
                    f'{prefix + classifier_keys[0]!r})')

    problems = []
    if unknown:
        problems.append(f'{len(unknown)} key(s) map nowhere: '
                        f'{_listing(unknown)}')
    if missing:
        problems.append(f'{len(missing)} key(s) are missing: '
                        f'{_listing(missing)}')
    if mismatched:
        problems.append(f'{len(mismatched)} shape mismatch(es): '
                        f'{_listing(mismatched)}')
    if problems:
        raise ReferenceCheckpointError(f'{source}: {_NOT_DLV2}. ' +
                                       '; '.join(problems) + '. ' +
                                       _hint(list(state_dict), mode))

    wants_head = mode == 'fda' or keep_classifier
    if wants_head and source_classes is None:
        raise ReferenceCheckpointError(
            f'{source}: it has no classifier ({prefix}layer5.*) to keep; drop '
            '--keep-classifier.')
    if wants_head and source_classes != num_classes:
        if mode == 'fda':
            fix = (f'convert with --num-classes {source_classes} and set '
                   f'model.decode_head.num_classes={source_classes}')
        else:
            fix = ('drop --keep-classifier (FDA itself drops layer5 for '
                   '19 classes), or convert with --num-classes '
                   f'{source_classes} for a {source_classes}-class head')
        raise ReferenceCheckpointError(
            f'{source}: the classifier {prefix}layer5.conv2d_list.0.weight '
            f'is {_fmt_shape(names[classifier_keys[0]].shape)}, i.e. '
            f'{source_classes} classes, but the head has {num_classes} '
            f'(shape {_fmt_shape((num_classes, TRUNK_OUT_CHANNELS, 3, 3))}): '
            f'{fix}.')

    trunk_prefix = 'backbone.' if wants_head else ''
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    filled = 0
    for name in expected:
        out[trunk_prefix + name] = names[name].clone()
        bn, entry = name.rsplit('.', 1)
        if bn in bn_names and entry == _BN_ENTRIES[-1]:
            nbt = f'{bn}.{_NBT}'
            if nbt in names:
                out[trunk_prefix + nbt] = names[nbt].reshape(
                    ()).to(torch.long).clone()
            else:
                # Saved before torch 0.4.1, which had no such buffer; only a
                # cumulative moving average (momentum=None) would read it.
                out[trunk_prefix + nbt] = torch.tensor(0, dtype=torch.long)
                filled += 1
    dropped = []
    for key in classifier_keys:
        if key not in names:
            continue
        if wants_head:
            out[_classifier_target(key)] = names[key].clone()
        else:
            dropped.append(prefix + key)
    info = dict(
        source_classes=source_classes,
        dropped=dropped,
        filled_num_batches_tracked=filled)
    return out, info


def convert_init_state_dict(
    state_dict: Mapping[str, torch.Tensor],
    *,
    keep_classifier: bool = False,
    num_classes: int = CITYSCAPES_CLASSES,
    source: str = 'checkpoint'
) -> Tuple['OrderedDict[str, torch.Tensor]', Dict]:
    """Convert the DeepLab ImageNet initialization (``Scale.<name>`` keys).

    Args:
        state_dict (Mapping[str, Tensor]): Keys ``Scale.<name>``
            (``module.`` already removed, see :func:`unwrap_state_dict`).
        keep_classifier (bool): Keep ``Scale.layer5`` as
            ``decode_head.aspp_modules.*``; then the trunk is written under
            ``backbone.*`` (a whole-segmentor checkpoint for ``load_from``,
            since ``model.pretrained`` only reaches the backbone). Requires
            the init's class count to equal ``num_classes``. Default: False.
        num_classes (int): Classes of the head, checked only with
            ``keep_classifier``. Default: 19.
        source (str): Name of the file, for error messages.

    Returns:
        tuple: The converted state dict (default: the backbone's own key
        names, as ``model.pretrained`` / ``Pretrained`` init loads them) and
        a dict with ``source_classes``, ``dropped`` and
        ``filled_num_batches_tracked``.

    Raises:
        ReferenceCheckpointError: For a key that maps nowhere, a missing key
            or a shape mismatch.
    """
    return _convert(
        state_dict,
        mode='init',
        num_classes=num_classes,
        keep_classifier=keep_classifier,
        source=source)


def convert_fda_state_dict(
    state_dict: Mapping[str, torch.Tensor],
    *,
    num_classes: int = CITYSCAPES_CLASSES,
    source: str = 'checkpoint'
) -> Tuple['OrderedDict[str, torch.Tensor]', Dict]:
    """Convert an FDA DeepLabV2 release (``model.state_dict()``) to MMSeg.

    Args:
        state_dict (Mapping[str, Tensor]): Keys ``<name>`` including
            ``layer5.conv2d_list.{0..3}.{weight,bias}`` (``module.`` and
            ``{'state_dict': ...}`` already removed, see
            :func:`unwrap_state_dict`). ``num_batches_tracked`` may be absent.
        num_classes (int): Classes of the head. Default: 19.
        source (str): Name of the file, for error messages.

    Returns:
        tuple: The state dict of the whole ``EncoderDecoder``
        (``backbone.<name>``, ``decode_head.aspp_modules.{i}.*``) and a
        dict with ``source_classes``, ``dropped`` and
        ``filled_num_batches_tracked``.

    Raises:
        ReferenceCheckpointError: For a key that maps nowhere, a missing key,
            a shape mismatch or another class count.
    """
    return _convert(
        state_dict,
        mode='fda',
        num_classes=num_classes,
        keep_classifier=True,
        source=source)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _check_destination(src: str, dst: str, force: bool) -> None:
    if osp.exists(src) and osp.exists(dst) and osp.samefile(src, dst):
        raise FileExistsError(
            f'destination {dst!r} is the source checkpoint; choose another '
            'output path.')
    if osp.isdir(dst):
        raise IsADirectoryError(
            f'destination {dst!r} is a directory; give a file path such as '
            f'{osp.join(dst, "deeplabv2_mmseg.pth")!r}.')
    if osp.exists(dst) and not force:
        raise FileExistsError(
            f'destination {dst!r} already exists; pass --force (force=True) '
            'to overwrite it.')


def save_mmseg_checkpoint(state_dict: Mapping[str, torch.Tensor],
                          meta: Dict[str, Any],
                          dst: str,
                          force: bool = False) -> None:
    """Write ``{'state_dict': ..., 'meta': ...}`` to ``dst`` atomically.

    Args:
        state_dict (Mapping[str, Tensor]): Weights.
        meta (dict): Plain data only (str, int, bool, lists, dicts), so the
            file loads with ``weights_only=True``.
        dst (str): Output path; its directory is created.
        force (bool): Overwrite an existing ``dst``. Default: False.

    Raises:
        FileExistsError: If ``dst`` exists and ``force`` is False.
    """
    if osp.exists(dst) and not force:
        raise FileExistsError(
            f'destination {dst!r} already exists; pass --force (force=True) '
            'to overwrite it.')
    buffer = io.BytesIO()
    torch.save({'state_dict': OrderedDict(state_dict), 'meta': meta}, buffer)
    atomic_write(dst, buffer.getvalue())


def _cityscapes_meta() -> Dict[str, Any]:
    from mmseg.datasets import CityscapesDataset
    info = CityscapesDataset.METAINFO
    return dict(
        classes=list(info['classes']),
        palette=[list(color) for color in info['palette']])


def convert_checkpoint(
        mode: str,
        src: str,
        dst: str,
        *,
        force: bool = False,
        keep_classifier: bool = False,
        num_classes: int = CITYSCAPES_CLASSES) -> ConversionReport:
    """Load ``src``, convert it and write the MMSeg checkpoint ``dst``.

    Args:
        mode (str): ``'init'`` (DeepLab_resnet_pretrained_init-f81d91e8.pth)
            or ``'fda'`` (an FDA release such as gta2city_LB_0_01.pth).
        src (str): Reference checkpoint, loaded with ``weights_only=True``.
        dst (str): Output; never overwritten unless ``force``; written
            atomically (a crash leaves the old file or none).
        force (bool): Overwrite ``dst``. Default: False.
        keep_classifier (bool): ``init`` only, see
            :func:`convert_init_state_dict`. Default: False.
        num_classes (int): Classes of the head. Default: 19.

    Returns:
        ConversionReport: What was written.

    Raises:
        ValueError: For an unknown ``mode`` or options that do not apply.
        FileNotFoundError: If ``src`` does not exist.
        FileExistsError: If ``dst`` exists and ``force`` is False.
        ReferenceCheckpointError: If ``src`` is not the expected checkpoint.
    """
    if mode not in ('init', 'fda'):
        raise ValueError(f"mode must be 'init' or 'fda', got {mode!r}.")
    if keep_classifier and mode != 'init':
        raise ValueError('keep_classifier applies to `init` only: `fda` '
                         'always converts the classifier.')
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f'num_classes must be a positive int, got {num_classes!r}.')
    _check_destination(src, dst, force)
    state_dict = load_reference_state_dict(src)
    if mode == 'init':
        converted, info = convert_init_state_dict(
            state_dict,
            keep_classifier=keep_classifier,
            num_classes=num_classes,
            source=src)
    else:
        converted, info = convert_fda_state_dict(
            state_dict, num_classes=num_classes, source=src)
    whole = mode == 'fda' or keep_classifier
    usage = ('load_from / tools/test.py CONFIG DST (whole EncoderDecoder)'
             if whole else 'model.pretrained=DST (backbone only)')
    meta: Dict[str, Any] = dict(
        converter=f'{_CONVERTER} {mode}',
        reference_layout=REFERENCE_LAYOUT,
        source=osp.basename(src),
        source_sha256=_sha256(src),
        source_classes=info['source_classes'],
        dropped_keys=list(info['dropped']),
        filled_num_batches_tracked=info['filled_num_batches_tracked'],
        usage=usage)
    if whole and num_classes == CITYSCAPES_CLASSES:
        meta['dataset_meta'] = _cityscapes_meta()
    save_mmseg_checkpoint(converted, meta, dst, force=force)
    return ConversionReport(
        mode=mode,
        src=src,
        dst=dst,
        num_tensors=len(converted),
        source_classes=info['source_classes'],
        dropped=list(info['dropped']),
        filled_num_batches_tracked=info['filled_num_batches_tracked'],
        usage=usage)
