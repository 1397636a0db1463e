"""Diagnose checkpoints that do not match the reference DeepLabV2 layout.

Each check compares a state dict (keys without the ``Scale.`` prefix of the
ImageNet initialization) with :mod:`mmseg_fdacl.converters.deeplabv2_layout` and
says what differs in terms of the source's own keys, plus a hint at what the
file probably is instead. :mod:`mmseg_fdacl.converters.deeplabv2_weights` raises
the results as :class:`ReferenceCheckpointError`.
"""
from typing import List, Mapping, Optional, Sequence, Tuple

import torch

from .deeplabv2_layout import (INIT_PREFIX, NUM_BATCHES_TRACKED,
                               REFERENCE_LAYOUT, classifier_shape,
                               reference_bn_names, reference_classifier_keys,
                               reference_trunk_shapes)

__all__ = [
    'ReferenceCheckpointError', 'NOT_DLV2', 'format_shape', 'format_listing',
    'checkpoint_hint', 'classifier_classes', 'layout_problems',
    'check_head_classes'
]

#: The sentence every refusal of a foreign checkpoint carries.
NOT_DLV2 = (f'this is not a DeepLabV2 ResNet-101 checkpoint in the '
            f'{REFERENCE_LAYOUT} layout')
#: How many keys an error message names before it says ``and N more``.
MAX_LISTED = 5


class ReferenceCheckpointError(ValueError):
    """A checkpoint that does not match the reference DeepLabV2 layout."""


def format_shape(shape: Sequence[int]) -> str:
    """Write a shape as a Python tuple, e.g. ``(64,)`` or ``(64, 3, 7, 7)``.

    Args:
        shape (Sequence[int]): A shape (``torch.Size`` or tuple).

    Returns:
        str: The tuple's ``repr`` with plain ints.
    """
    return '(' + ', '.join(str(int(s))
                           for s in shape) + (',)' if len(shape) == 1 else ')')


def format_listing(items: Sequence[str]) -> str:
    """Join the first :data:`MAX_LISTED` items, counting the rest.

    Args:
        items (Sequence[str]): What to list.

    Returns:
        str: ``'a, b, c, d, e and 3 more'``.
    """
    shown = ', '.join(items[:MAX_LISTED])
    more = len(items) - MAX_LISTED
    return shown + (f' and {more} more' if more > 0 else '')


def checkpoint_hint(keys: Sequence[str], mode: str) -> str:
    """Say what the key set looks like, and what to do about it.

    Args:
        keys (Sequence[str]): The source's keys, as saved.
        mode (str): ``'init'`` or ``'fda'``, the conversion asked for.

    Returns:
        str: One or two sentences for the end of an error message.
    """
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


def classifier_classes(names: Mapping[str, torch.Tensor]) -> Optional[int]:
    """Read the class count of the classifier ``layer5``.

    Args:
        names (Mapping[str, Tensor]): Keys ``<name>`` (no ``Scale.``).

    Returns:
        int, optional: Output channels of ``layer5.conv2d_list.0.weight``;
        None unless every classifier key is present.
    """
    keys = reference_classifier_keys()
    if not all(key in names for key in keys):
        return None
    return int(names[keys[0]].shape[0])


def _trunk_problems(names: Mapping[str, torch.Tensor],
                    prefix: str) -> Tuple[List[str], List[str]]:
    """Keys that map nowhere and trunk tensors of the wrong shape.

    Args:
        names (Mapping[str, Tensor]): Keys ``<name>`` (no ``Scale.``).
        prefix (str): What the source's keys carry before ``<name>``.

    Returns:
        tuple[list[str], list[str]]: The unknown keys and the shape
        mismatches, described, in the source's order.
    """
    expected = reference_trunk_shapes()
    bn_names = set(reference_bn_names())
    classifier_keys = reference_classifier_keys()
    unknown, mismatched = [], []
    for name, value in names.items():
        shape = tuple(value.shape)
        if name in expected:
            if shape != expected[name]:
                mismatched.append(
                    f'{prefix + name!r} is {format_shape(shape)} in the '
                    f'checkpoint but {format_shape(expected[name])} in '
                    'DeepLabV2ResNet-101')
        elif (name.endswith('.' + NUM_BATCHES_TRACKED)
              and name[:-len(NUM_BATCHES_TRACKED) - 1] in bn_names):
            if value.numel() != 1:
                mismatched.append(
                    f'{prefix + name!r} is {format_shape(shape)} in the '
                    'checkpoint but a scalar in DeepLabV2ResNet-101')
        elif name not in classifier_keys:
            unknown.append(f'{prefix + name!r} {format_shape(shape)}')
    return unknown, mismatched


def _missing_keys(names: Mapping[str, torch.Tensor], prefix: str,
                  require_classifier: bool) -> List[str]:
    """Trunk keys, and classifier keys where expected, that are absent.

    Args:
        names (Mapping[str, Tensor]): Keys ``<name>`` (no ``Scale.``).
        prefix (str): What the source's keys carry before ``<name>``.
        require_classifier (bool): Count absent classifier keys even when
            the source has none of them.

    Returns:
        list[str]: The missing keys as the source would spell them.
    """
    missing = [
        f'{prefix + k!r} {format_shape(shape)}'
        for k, shape in reference_trunk_shapes().items() if k not in names
    ]
    classifier_keys = reference_classifier_keys()
    if require_classifier or any(k in names for k in classifier_keys):
        missing += [
            repr(prefix + k) for k in classifier_keys if k not in names
        ]
    return missing


def _classifier_mismatches(names: Mapping[str, torch.Tensor],
                           prefix: str) -> List[str]:
    """Classifier tensors whose shape disagrees with the first one's.

    Args:
        names (Mapping[str, Tensor]): Keys ``<name>`` (no ``Scale.``).
        prefix (str): What the source's keys carry before ``<name>``.

    Returns:
        list[str]: The shape mismatches, described; empty unless the whole
        classifier is present.
    """
    num_classes = classifier_classes(names)
    if num_classes is None:
        return []
    keys = reference_classifier_keys()
    mismatched = []
    for key in keys:
        shape = tuple(names[key].shape)
        want = classifier_shape(key, num_classes)
        if shape != want:
            mismatched.append(
                f'{prefix + key!r} is {format_shape(shape)} in the '
                f'checkpoint but {format_shape(want)} for a '
                f'{num_classes}-class DLV2Head (the shape of '
                f'{prefix + keys[0]!r})')
    return mismatched


def layout_problems(names: Mapping[str, torch.Tensor], prefix: str,
                    require_classifier: bool) -> List[str]:
    """Check every key and shape of ``names`` against the reference layout.

    Args:
        names (Mapping[str, Tensor]): Keys ``<name>`` (no ``Scale.``).
        prefix (str): What the source's keys carry before ``<name>``
            (``'Scale.'`` or ``''``), so messages name the keys as saved.
        require_classifier (bool): The classifier ``layer5`` must be there.

    Returns:
        list[str]: One sentence each for the unknown keys, the missing keys
        and the shape mismatches that were found; empty when it matches.
    """
    unknown, mismatched = _trunk_problems(names, prefix)
    mismatched += _classifier_mismatches(names, prefix)
    missing = _missing_keys(names, prefix, require_classifier)
    return [
        f'{len(items)} {what}: {format_listing(items)}'
        for items, what in ((unknown, 'key(s) map nowhere'),
                            (missing, 'key(s) are missing'),
                            (mismatched, 'shape mismatch(es)')) if items
    ]


def check_head_classes(names: Mapping[str, torch.Tensor], *, mode: str,
                       prefix: str, num_classes: int, source: str) -> None:
    """Refuse a classifier that is absent or has another class count.

    Args:
        names (Mapping[str, Tensor]): Keys ``<name>`` (no ``Scale.``),
            already checked by :func:`layout_problems`.
        mode (str): ``'init'`` or ``'fda'``; only changes the suggested fix.
        prefix (str): What the source's keys carry before ``<name>``.
        num_classes (int): Classes of the head to write.
        source (str): Name of the file, for error messages.

    Raises:
        ReferenceCheckpointError: If there is no classifier to keep, or its
            class count is not ``num_classes``.
    """
    source_classes = classifier_classes(names)
    if source_classes is None:
        raise ReferenceCheckpointError(
            f'{source}: it has no classifier ({prefix}layer5.*) to keep; drop '
            '--keep-classifier.')
    if source_classes == num_classes:
        return
    if mode == 'fda':
        fix = (f'convert with --num-classes {source_classes} and set '
               f'model.decode_head.num_classes={source_classes}')
    else:
        fix = ('drop --keep-classifier (FDA itself drops layer5 for '
               '19 classes), or convert with --num-classes '
               f'{source_classes} for a {source_classes}-class head')
    first = reference_classifier_keys()[0]
    raise ReferenceCheckpointError(
        f'{source}: the classifier {prefix}layer5.conv2d_list.0.weight '
        f'is {format_shape(names[first].shape)}, i.e. '
        f'{source_classes} classes, but the head has {num_classes} '
        f'(shape {format_shape(classifier_shape(first, num_classes))}): '
        f'{fix}.')
