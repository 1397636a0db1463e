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

This module reads and writes the files. The work is split by
responsibility, and every public name is re-exported here:

* :mod:`mmseg_fdacl.converters.deeplabv2_layout`: the key/shape layout;
* :mod:`mmseg_fdacl.converters.deeplabv2_diagnosis`: the checks, and the errors
  that explain a refusal;
* :mod:`mmseg_fdacl.converters.deeplabv2_conversion`: the in-memory renaming.

Command line: ``tools/model_converters/deeplabv2_reference.py``.
"""
import hashlib
import io
import os.path as osp
import pickle
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

import torch

from ..utils.atomic_io import atomic_write
from .deeplabv2_conversion import (convert_fda_state_dict,
                                   convert_init_state_dict, unwrap_state_dict)
from .deeplabv2_diagnosis import ReferenceCheckpointError
from .deeplabv2_layout import (CITYSCAPES_CLASSES, INIT_PREFIX,
                               NUM_ASPP_BRANCHES, REFERENCE_LAYOUT,
                               RESNET101_BLOCKS, TRUNK_OUT_CHANNELS,
                               reference_bn_names, reference_classifier_keys,
                               reference_trunk_shapes)

__all__ = [
    'REFERENCE_LAYOUT', 'RESNET101_BLOCKS', 'INIT_PREFIX', 'NUM_ASPP_BRANCHES',
    'TRUNK_OUT_CHANNELS', 'CITYSCAPES_CLASSES', 'ReferenceCheckpointError',
    'ConversionReport', 'reference_trunk_shapes', 'reference_bn_names',
    'reference_classifier_keys', 'load_reference_state_dict',
    'unwrap_state_dict', 'convert_init_state_dict', 'convert_fda_state_dict',
    'save_mmseg_checkpoint', 'convert_checkpoint'
]

_CONVERTER = 'tools/model_converters/deeplabv2_reference.py'


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


def _sha256(path: str) -> str:
    """Hex SHA-256 of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            digest.update(chunk)
    return digest.hexdigest()


def _refuse_existing(dst: str, force: bool) -> None:
    """Raise FileExistsError if ``dst`` exists and ``force`` is False."""
    if osp.exists(dst) and not force:
        raise FileExistsError(
            f'destination {dst!r} already exists; pass --force (force=True) '
            'to overwrite it.')


def _check_destination(src: str, dst: str, force: bool) -> None:
    """Refuse a ``dst`` that is ``src``, a directory, or exists unforced."""
    if osp.exists(src) and osp.exists(dst) and osp.samefile(src, dst):
        raise FileExistsError(
            f'destination {dst!r} is the source checkpoint; choose another '
            'output path.')
    if osp.isdir(dst):
        raise IsADirectoryError(
            f'destination {dst!r} is a directory; give a file path such as '
            f'{osp.join(dst, "deeplabv2_mmseg.pth")!r}.')
    _refuse_existing(dst, force)


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
    _refuse_existing(dst, force)
    buffer = io.BytesIO()
    torch.save({'state_dict': OrderedDict(state_dict), 'meta': meta}, buffer)
    atomic_write(dst, buffer.getvalue())


def _cityscapes_meta() -> Dict[str, Any]:
    """Cityscapes class names and palette, as plain lists."""
    from mmseg.datasets import CityscapesDataset
    info = CityscapesDataset.METAINFO
    return dict(
        classes=list(info['classes']),
        palette=[list(color) for color in info['palette']])


def _check_options(mode: str, keep_classifier: bool, num_classes: int) -> None:
    """Refuse an unknown ``mode`` or options that do not apply to it.

    Raises:
        ValueError: For any of those.
    """
    if mode not in ('init', 'fda'):
        raise ValueError(f"mode must be 'init' or 'fda', got {mode!r}.")
    if keep_classifier and mode != 'init':
        raise ValueError('keep_classifier applies to `init` only: `fda` '
                         'always converts the classifier.')
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f'num_classes must be a positive int, got {num_classes!r}.')


def _checkpoint_meta(mode: str, src: str, info: Dict[str, Any], usage: str,
                     dataset_meta: bool) -> Dict[str, Any]:
    """The ``meta`` of a converted checkpoint: provenance and usage.

    Args:
        mode (str): ``'init'`` or ``'fda'``.
        src (str): Source checkpoint (hashed).
        info (dict): The conversion's ``source_classes``, ``dropped`` and
            ``filled_num_batches_tracked``.
        usage (str): How the written file is meant to be loaded.
        dataset_meta (bool): Add Cityscapes ``dataset_meta``.

    Returns:
        dict: Plain data only, so the file loads with ``weights_only=True``.
    """
    meta: Dict[str, Any] = dict(
        converter=f'{_CONVERTER} {mode}',
        reference_layout=REFERENCE_LAYOUT,
        source=osp.basename(src),
        source_sha256=_sha256(src),
        source_classes=info['source_classes'],
        dropped_keys=list(info['dropped']),
        filled_num_batches_tracked=info['filled_num_batches_tracked'],
        usage=usage)
    if dataset_meta:
        meta['dataset_meta'] = _cityscapes_meta()
    return meta


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
    _check_options(mode, keep_classifier, num_classes)
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
    meta = _checkpoint_meta(mode, src, info, usage, whole
                            and num_classes == CITYSCAPES_CLASSES)
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
