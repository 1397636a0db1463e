"""Convert reference DeepLabV2 state dicts, in memory, to MMSeg key names.

The input is a dict of tensors in the layout of
:mod:`mmseg_fdacl.converters.deeplabv2_layout`: the ImageNet initialization
(``Scale.<name>``) or an FDA release (``<name>``). Everything is checked
first (:mod:`mmseg_fdacl.converters.deeplabv2_diagnosis`), then the trunk is
copied under MMSeg's names and the classifier ``layer5`` is either written as
``DLV2Head``'s ``aspp_modules`` or dropped. Files are read and written by
:mod:`mmseg_fdacl.converters.deeplabv2_weights`.
"""
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Tuple

import torch

from .deeplabv2_diagnosis import (NOT_DLV2, ReferenceCheckpointError,
                                  check_head_classes, checkpoint_hint,
                                  classifier_classes, format_listing,
                                  layout_problems)
from .deeplabv2_layout import (BN_ENTRIES, CITYSCAPES_CLASSES, INIT_PREFIX,
                               NUM_BATCHES_TRACKED, classifier_target,
                               reference_bn_names, reference_classifier_keys,
                               reference_trunk_shapes)

__all__ = [
    'unwrap_state_dict', 'convert_init_state_dict', 'convert_fda_state_dict'
]


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
            f'{type(checkpoint).__name__}; {NOT_DLV2}.')
    out: 'OrderedDict[str, Any]' = OrderedDict()
    for key, value in checkpoint.items():
        if not isinstance(key, str):
            raise ReferenceCheckpointError(
                f'{source}: key {key!r} is not a string; {NOT_DLV2}.')
        if not isinstance(value, torch.Tensor):
            raise ReferenceCheckpointError(
                f'{source}: entry {key!r} is a {type(value).__name__}, not a '
                f'tensor; {NOT_DLV2} (those hold only tensors, or '
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
                                       f'tensors; {NOT_DLV2}.')
    return out


def _strip_init_prefix(state_dict: Mapping[str, torch.Tensor],
                       source: str) -> 'OrderedDict[str, torch.Tensor]':
    """Remove ``Scale.`` from every key of the ImageNet initialization.

    Args:
        state_dict (Mapping[str, Tensor]): Keys ``Scale.<name>``.
        source (str): Name of the file, for error messages.

    Returns:
        OrderedDict[str, Tensor]: Keys ``<name>``, in the source's order.

    Raises:
        ReferenceCheckpointError: If a key lacks the prefix.
    """
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
            f'map nowhere: {format_listing(unprefixed)}; {NOT_DLV2}. '
            f'{checkpoint_hint(list(state_dict), "init")}')
    return stripped


def _copy_trunk(names: Mapping[str, torch.Tensor],
                prefix: str) -> Tuple['OrderedDict[str, torch.Tensor]', int]:
    """Copy the trunk under ``prefix``, filling absent BatchNorm counters.

    Args:
        names (Mapping[str, Tensor]): Keys ``<name>``, already checked by
            :func:`~mmseg_fdacl.converters.deeplabv2_diagnosis.layout_problems`.
        prefix (str): ``'backbone.'`` for a whole segmentor, else ``''``.

    Returns:
        tuple[OrderedDict[str, Tensor], int]: The trunk in layout order, each
        BatchNorm followed by its ``num_batches_tracked`` (a long scalar),
        and how many of those the source lacked (written as 0).
    """
    bn_names = set(reference_bn_names())
    out: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    filled = 0
    for name in reference_trunk_shapes():
        out[prefix + name] = names[name].clone()
        bn, entry = name.rsplit('.', 1)
        if bn in bn_names and entry == BN_ENTRIES[-1]:
            nbt = f'{bn}.{NUM_BATCHES_TRACKED}'
            if nbt in names:
                out[prefix + nbt] = names[nbt].reshape(
                    ()).to(torch.long).clone()
            else:
                # Saved before torch 0.4.1, which had no such buffer; only a
                # cumulative moving average (momentum=None) would read it.
                out[prefix + nbt] = torch.tensor(0, dtype=torch.long)
                filled += 1
    return out, filled


def _move_classifier(names: Mapping[str, torch.Tensor],
                     out: 'OrderedDict[str, torch.Tensor]', keep: bool,
                     prefix: str) -> List[str]:
    """Write ``layer5`` as ``decode_head.aspp_modules.*``, or drop it.

    Args:
        names (Mapping[str, Tensor]): Keys ``<name>``.
        out (OrderedDict[str, Tensor]): The converted state dict, extended
            in place when ``keep``.
        keep (bool): Write the classifier rather than drop it.
        prefix (str): What the source's keys carry before ``<name>``.

    Returns:
        list[str]: The dropped source keys, as saved.
    """
    dropped = []
    for key in reference_classifier_keys():
        if key not in names:
            continue
        if keep:
            out[classifier_target(key)] = names[key].clone()
        else:
            dropped.append(prefix + key)
    return dropped


def _convert(state_dict: Mapping[str, torch.Tensor], *, mode: str,
             num_classes: int, keep_classifier: bool,
             source: str) -> Tuple['OrderedDict[str, torch.Tensor]', Dict]:
    """Check ``state_dict`` against the layout and rename it.

    ``mode='fda'``: keys ``<name>``, classifier required, output
    ``backbone.<name>`` + ``decode_head.aspp_modules.*``. ``mode='init'``:
    keys ``Scale.<name>``, classifier optional; output ``<name>`` (trunk only)
    or, with ``keep_classifier``, the ``fda`` layout.

    Args:
        state_dict (Mapping[str, Tensor]): The source's tensors.
        mode (str): ``'init'`` or ``'fda'``.
        num_classes (int): Classes of the head, checked when it is written.
        keep_classifier (bool): Write the classifier (always for ``fda``).
        source (str): Name of the file, for error messages.

    Returns:
        tuple: The converted state dict and a dict with ``source_classes``,
        ``dropped`` and ``filled_num_batches_tracked``.

    Raises:
        ReferenceCheckpointError: If ``state_dict`` does not match the
            layout, or its classifier does not fit the head.
    """
    if mode == 'init':
        names = _strip_init_prefix(state_dict, source)
        prefix = INIT_PREFIX
    else:
        names = OrderedDict(state_dict)
        prefix = ''
    problems = layout_problems(names, prefix, require_classifier=mode == 'fda')
    if problems:
        raise ReferenceCheckpointError(f'{source}: {NOT_DLV2}. ' +
                                       '; '.join(problems) + '. ' +
                                       checkpoint_hint(list(state_dict), mode))
    wants_head = mode == 'fda' or keep_classifier
    if wants_head:
        check_head_classes(
            names,
            mode=mode,
            prefix=prefix,
            num_classes=num_classes,
            source=source)
    out, filled = _copy_trunk(names, 'backbone.' if wants_head else '')
    dropped = _move_classifier(names, out, wants_head, prefix)
    info = dict(
        source_classes=classifier_classes(names),
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
