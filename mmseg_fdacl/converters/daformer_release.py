"""Released DAFormer, HRDA and MIC checkpoints into this project's layout.

lhoyer/DAFormer, lhoyer/HRDA and lhoyer/MIC (forks of MMSeg 0.16) save the
whole UDA wrapper: the student under ``model.``, the EMA teacher under
``ema_model.`` and, with the feature distance, the frozen ImageNet model
under ``imnet_model.``. Their MiT is SegFormer's (``patch_embed1``,
``block1.0.attn.q``, ``norm1``, ...), which MMSeg's own
``tools/model_converters/mit2mmseg.py`` (``convert_mit``) maps onto MMSeg's
``MixVisionTransformer``; their ``DAFormerHead`` and ``HRDAHead`` have the
module names of this project's heads (``decode_head.embed_layers``,
``fuse_layer``, ``head``, ``scale_attention``), and their ``DLV2Head``
branches are ``ConvModule`` s (``aspp_modules.<i>.conv``) where this
project's are plain convolutions (``aspp_modules.<i>``). ResNetV1c keys are
the same in both versions.

One of student and teacher becomes an ``EncoderDecoder`` state dict that
``tools/test.py`` (or ``load_from``) takes as is; the ImageNet copy is
dropped (this project rebuilds it from ``model.pretrained``).
"""
import importlib.util
import io
import os.path as osp
import pickle
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional

import torch

from ..utils.atomic_io import atomic_write
from ..utils.checkpoint import register_checkpoint_safe_globals

__all__ = ['RELEASE_PREFIXES', 'WEIGHTS', 'ReleaseCheckpointError', 'ReleaseReport',
           'split_release_state_dict', 'convert_release_state_dict',
           'release_state_dict', 'mit_from_mmseg', 'convert_release_checkpoint']

#: Key prefixes of the UDA wrapper's three networks in a released checkpoint.
RELEASE_PREFIXES = OrderedDict(
    student='model.', teacher='ema_model.', imnet='imnet_model.')
#: Networks a release can be converted to.
WEIGHTS = ('student', 'teacher')
# A DLV2Head branch (alone or inside HRDAHead), not the ASPP of DAFormer's
# fusion (``fuse_layer.aspp_modules``).
_DLV2_RELEASE = re.compile(
    r'^(decode_head\.(?:(?:head|scale_attention)\.)?aspp_modules\.\d+)'
    r'\.conv\.(weight|bias)$')
_DLV2_OURS = re.compile(
    r'^(decode_head\.(?:(?:head|scale_attention)\.)?aspp_modules\.\d+)'
    r'\.(weight|bias)$')


class ReleaseCheckpointError(ValueError):
    """A file that is not a DAFormer / HRDA / MIC training checkpoint."""


@dataclass
class ReleaseReport:
    """What :func:`convert_release_checkpoint` wrote.

    Attributes:
        dst (str): The written file.
        weights (str): ``'student'`` or ``'teacher'``.
        num_tensors (int): Tensors written.
        dropped (dict): Tensors left out per network (the other of student
            and teacher, ``imnet``).
        mit (bool): The backbone was SegFormer's MiT (renamed by MMSeg's
            ``convert_mit``).
    """
    dst: str
    weights: str
    num_tensors: int
    dropped: Dict[str, int]
    mit: bool


def _mmseg_convert_mit() -> Callable:
    """MMSeg's ``convert_mit`` from its installed
    ``tools/model_converters/mit2mmseg.py`` (pip: under ``mmseg/.mim``;
    a source install: beside the package)."""
    import mmseg
    root = osp.dirname(osp.abspath(mmseg.__file__))
    candidates = [
        osp.join(root, '.mim', 'tools', 'model_converters', 'mit2mmseg.py'),
        osp.join(osp.dirname(root), 'tools', 'model_converters',
                 'mit2mmseg.py')
    ]
    for path in candidates:
        if osp.isfile(path):
            spec = importlib.util.spec_from_file_location(
                'mmseg_tools_mit2mmseg', path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module.convert_mit
    raise ReleaseCheckpointError(
        "MMSeg's tools/model_converters/mit2mmseg.py was not found (looked "
        f'in {candidates}); install mmsegmentation with its tools (pip or '
        'from source).')


def split_release_state_dict(state_dict: Mapping[str, torch.Tensor],
                             source: str = 'state_dict'
                             ) -> Dict[str, 'OrderedDict[str, torch.Tensor]']:
    """Split a released state dict into ``student``, ``teacher``, ``imnet``.

    Args:
        state_dict (Mapping[str, Tensor]): The checkpoint's ``state_dict``
            (a ``module.`` prefix of a DDP save is removed).
        source (str): Name for errors.

    Returns:
        dict: Network name -> its state dict without the prefix (empty when
        the release has no such network).

    Raises:
        ReleaseCheckpointError: If a key has none of the prefixes or the
            student is missing.
    """
    parts = {name: OrderedDict() for name in RELEASE_PREFIXES}
    unknown = []
    for key, value in state_dict.items():
        name = key[len('module.'):] if key.startswith('module.') else key
        for part, prefix in RELEASE_PREFIXES.items():
            if name.startswith(prefix):
                parts[part][name[len(prefix):]] = value
                break
        else:
            unknown.append(key)
    if unknown or not parts['student']:
        raise ReleaseCheckpointError(
            f'{source}: not a DAFormer / HRDA / MIC training checkpoint: '
            f'expected keys under {list(RELEASE_PREFIXES.values())}, found '
            f'{len(unknown)} others (e.g. {unknown[:3]}). A plain MMSeg '
            'checkpoint needs no conversion; give it to tools/test.py.')
    return parts


def _is_segformer_mit(backbone: Mapping[str, torch.Tensor]) -> bool:
    return 'patch_embed1.proj.weight' in backbone


def mit_from_mmseg(backbone: Mapping[str, torch.Tensor]
                   ) -> 'OrderedDict[str, torch.Tensor]':
    """MMSeg's ``MixVisionTransformer`` keys back to SegFormer's: the inverse
    of MMSeg's ``convert_mit`` (``in_proj`` split into ``q`` and ``kv``,
    1x1 convolutions of the FFN back to linear layers)."""
    out = OrderedDict()
    for key, value in backbone.items():
        m = re.match(r'^layers\.(\d+)\.(\d+)\.(.*)$', key)
        if m is None:
            out[key] = value
            continue
        stage, part, rest = int(m.group(1)) + 1, m.group(2), m.group(3)
        if part == '0':
            out[f'patch_embed{stage}.' +
                rest.replace('projection.', 'proj.')] = value
            continue
        if part == '2':
            out[f'norm{stage}.{rest}'] = value
            continue
        block, name = rest.split('.', 1)
        head = f'block{stage}.{block}.'
        if name.startswith('attn.attn.in_proj_'):
            entry = name[len('attn.attn.in_proj_'):]
            dim = value.shape[0] // 3
            out[head + f'attn.q.{entry}'] = value[:dim]
            out[head + f'attn.kv.{entry}'] = value[dim:]
        elif name.startswith('attn.attn.out_proj.'):
            out[head + 'attn.proj.' + name[len('attn.attn.out_proj.'):]] = value
        elif name.startswith('ffn.layers.'):
            idx, entry = name[len('ffn.layers.'):].split('.', 1)
            target = {'0': 'mlp.fc1.', '1': 'mlp.dwconv.dwconv.',
                      '4': 'mlp.fc2.'}[idx]
            if idx in ('0', '4') and entry == 'weight':
                value = value.reshape(value.shape[:2])
            out[head + target + entry] = value
        else:
            out[head + name] = value
    return out


def _network_to_ours(net: Mapping[str, torch.Tensor]
                     ) -> 'tuple[OrderedDict[str, torch.Tensor], bool]':
    backbone = OrderedDict((k[len('backbone.'):], v) for k, v in net.items()
                           if k.startswith('backbone.'))
    mit = _is_segformer_mit(backbone)
    if mit:
        backbone = _mmseg_convert_mit()(backbone)
    out = OrderedDict(('backbone.' + k, v) for k, v in backbone.items())
    for key, value in net.items():
        if not key.startswith('backbone.'):
            out[_DLV2_RELEASE.sub(r'\1.\2', key)] = value
    return out, mit


def convert_release_state_dict(state_dict: Mapping[str, torch.Tensor],
                               weights: str = 'student',
                               source: str = 'state_dict'
                               ) -> 'OrderedDict[str, torch.Tensor]':
    """The student or the teacher of a release as an EncoderDecoder state
    dict of this project (MMSeg 1.x names).

    Args:
        state_dict (Mapping[str, Tensor]): The release's ``state_dict``.
        weights (str): ``'student'`` (what DAFormer, HRDA and MIC evaluate:
            their ``tools/test.py`` strips ``model.``) or ``'teacher'``.
            Default: 'student'.
        source (str): Name for errors.

    Returns:
        OrderedDict[str, Tensor]: ``backbone.*`` and ``decode_head.*``.
    """
    if weights not in WEIGHTS:
        raise ValueError(f'weights must be one of {WEIGHTS}, got {weights!r}')
    parts = split_release_state_dict(state_dict, source)
    if not parts[weights]:
        raise ReleaseCheckpointError(
            f'{source}: it holds no {weights} ({RELEASE_PREFIXES[weights]}*);'
            ' convert the student instead.')
    return _network_to_ours(parts[weights])[0]


def release_state_dict(student: Mapping[str, torch.Tensor],
                       teacher: Optional[Mapping[str, torch.Tensor]] = None,
                       imnet: Optional[Mapping[str, torch.Tensor]] = None
                       ) -> 'OrderedDict[str, torch.Tensor]':
    """This project's EncoderDecoder state dicts in the releases' layout
    (the inverse of :func:`convert_release_state_dict`), e.g. to evaluate a
    model trained here with DAFormer's, HRDA's or MIC's own code."""
    out = OrderedDict()
    for part, net in (('student', student), ('teacher', teacher),
                      ('imnet', imnet)):
        if net is None:
            continue
        backbone = OrderedDict((k[len('backbone.'):], v)
                               for k, v in net.items()
                               if k.startswith('backbone.'))
        if 'layers.0.0.projection.weight' in backbone:
            backbone = mit_from_mmseg(backbone)
        prefix = RELEASE_PREFIXES[part]
        out.update((f'{prefix}backbone.{k}', v) for k, v in backbone.items())
        out.update((prefix + _DLV2_OURS.sub(r'\1.conv.\2', k), v)
                   for k, v in net.items() if not k.startswith('backbone.'))
    return out


def _load(path: str) -> Dict[str, Any]:
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'released checkpoint {path!r} not found. Nothing is downloaded: '
            'place the file from the DAFormer / HRDA / MIC README there.')
    try:
        # Registered process-wide, as at import: torch's safe_globals()
        # context manager would remove the project's globals on exit, and
        # every later resume in the process would then be refused.
        register_checkpoint_safe_globals()
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except pickle.UnpicklingError as err:
        raise ReleaseCheckpointError(
            f'refused to load {path!r}: it holds Python objects besides '
            f'tensors and plain data ({str(err).splitlines()[0]}). If you '
            'trust the file, load it once with weights_only=False and '
            're-save its state_dict.') from err
    except (RuntimeError, EOFError, OSError) as err:
        raise ReleaseCheckpointError(
            f'could not read {path!r} as a torch checkpoint ({err}); is the '
            'download complete?') from err
    if not isinstance(checkpoint, dict) or 'state_dict' not in checkpoint:
        raise ReleaseCheckpointError(
            f'{path!r} has no state_dict: a DAFormer / HRDA / MIC training '
            'checkpoint (latest.pth or iter_40000.pth) has one.')
    return checkpoint


def convert_release_checkpoint(src: str,
                               dst: str,
                               weights: str = 'student',
                               force: bool = False) -> ReleaseReport:
    """Convert a released ``.pth`` into an MMSeg 1.x checkpoint.

    Args:
        src (str): The release (``weights_only`` loading; numpy scalars in
            its meta are allowed).
        dst (str): Output ``{'state_dict', 'meta'}`` file (atomic write).
        weights (str): ``'student'`` or ``'teacher'``. Default: 'student'.
        force (bool): Overwrite ``dst``. Default: False.

    Returns:
        ReleaseReport: What was written and dropped.
    """
    if osp.exists(dst) and not force:
        raise FileExistsError(f'destination {dst!r} already exists; pass '
                              '--force (force=True) to overwrite it.')
    checkpoint = _load(src)
    parts = split_release_state_dict(checkpoint['state_dict'], src)
    state_dict = convert_release_state_dict(checkpoint['state_dict'],
                                            weights, src)
    meta_in = checkpoint.get('meta') or {}
    meta = dict(converted_from=osp.basename(src), weights=weights,
                converter='tools/model_converters/daformer_release.py')
    classes = meta_in.get('CLASSES') if isinstance(meta_in, dict) else None
    if classes:
        meta['dataset_meta'] = dict(classes=[str(c) for c in classes])
    buffer = io.BytesIO()
    torch.save({'state_dict': state_dict, 'meta': meta}, buffer)
    atomic_write(dst, buffer.getvalue())
    dropped = {k: len(v) for k, v in parts.items() if k != weights and v}
    return ReleaseReport(dst=dst, weights=weights,
                         num_tensors=len(state_dict), dropped=dropped,
                         mit=_is_segformer_mit({
                             k[len('backbone.'):]: None
                             for k in parts[weights]
                             if k.startswith('backbone.')}))
