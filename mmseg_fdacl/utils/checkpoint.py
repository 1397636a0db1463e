"""Checkpoint loading for mmengine 0.10.7 under torch >= 2.6.

Why this exists: since torch 2.6, ``torch.load`` defaults to
``weights_only=True``, an unpickler that only rebuilds tensors and plain
containers. mmengine 0.10.7 calls ``torch.load(filename, map_location=...)``
without ``weights_only`` (``mmengine.runner.checkpoint.load_from_local``), and
its own checkpoints hold more than tensors: the message hub's
``HistoryBuffer`` objects (numpy arrays of logged values, and their statistic
methods pickled as ``getattr(HistoryBuffer, 'mean')``) and numpy scalars in
``meta`` (e.g. a best score). So ``--resume`` and ``load_from`` fail.

Rather than switching the safety off (``weights_only=False``, which lets a
checkpoint run arbitrary code), :func:`register_checkpoint_safe_globals`
allow-lists exactly the globals such checkpoints need, found by saving real
runner checkpoints (model, SGD/AdamW optimizer state, param schedulers,
message hub, numpy scalars) and listing what ``weights_only`` refused
(``torch.serialization.get_unsafe_globals_in_checkpoint``):

* ``mmengine.logging.history_buffer.HistoryBuffer`` (message hub logs);
* numpy arrays, dtypes and scalars (``_reconstruct``, ``ndarray``, ``dtype``,
  ``scalar`` and the numeric dtype classes), also under their numpy 1.x names
  (``numpy.core.*``) so checkpoints written with numpy 1 load too;
* ``builtins.getattr`` -- NOT the real ``getattr``: the name is bound to
  :func:`_history_buffer_getattr`, which only returns HistoryBuffer's own
  statistic methods and refuses everything else, so a checkpoint cannot use
  it to reach arbitrary attributes.

Everything else is still refused by torch's unpickler. mmengine's local
loader is re-registered (its documented ``CheckpointLoader.register_scheme``
extension point, not a patch of installed code) so that a refused checkpoint
fails with an error naming the file, the refused global and what to do.
"""
import os.path as osp
import pickle
from typing import Any, Callable, List, Tuple, Union

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader

SafeGlobal = Union[Callable, Tuple[Callable, str]]

# Numeric numpy dtypes whose instances can appear in checkpoints (arrays of
# logged values, metric scalars). Unpickling a dtype BUILDs an instance of its
# class, so the classes must be allowed as well as ``numpy.dtype``.
_NUMPY_DTYPE_NAMES = ('bool', 'int8', 'int16', 'int32', 'int64', 'uint8',
                      'uint16', 'uint32', 'uint64', 'float16', 'float32',
                      'float64', 'longlong', 'ulonglong', 'longdouble')

_registered = False


def _history_buffer_getattr(obj: Any, name: str) -> Callable:
    """Stand-in for ``getattr`` that resolves only HistoryBuffer methods.

    ``HistoryBuffer.__getstate__`` stores its statistic methods
    (``min``, ``max``, ``current``, ``mean`` and any registered with
    ``HistoryBuffer.register_statistics``), which pickle writes as
    ``getattr(HistoryBuffer, name)``.

    Raises:
        pickle.UnpicklingError: For any other object or attribute.
    """
    if obj is HistoryBuffer and not name.startswith('_'):
        attr = getattr(HistoryBuffer, name, None)
        if callable(attr) and (attr
                               in HistoryBuffer._statistics_methods.values()
                               or name in ('min', 'max', 'current', 'mean')):
            return attr
    raise pickle.UnpicklingError(
        f'refused getattr({obj!r}, {name!r}) while loading a checkpoint: '
        'mmseg_fdacl only allows getattr(HistoryBuffer, <statistics method>) '
        '(see mmseg_fdacl/utils/checkpoint.py).')


def checkpoint_safe_globals() -> List[SafeGlobal]:
    """Return the globals mmengine/MMSeg checkpoints need under weights_only.

    Returns:
        list: Entries for ``torch.serialization.add_safe_globals``: objects,
        or ``(object, 'module.name')`` pairs where the pickled name differs
        from the object's own (numpy 1.x paths, the restricted getattr).
    """
    from numpy._core import multiarray
    entries: List[SafeGlobal] = [
        HistoryBuffer,
        np.ndarray,
        np.dtype,
        multiarray._reconstruct,
        multiarray.scalar,
        # Pickles written under numpy 1.x name the same objects numpy.core.*.
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
        (_history_buffer_getattr, 'builtins.getattr'),
    ]
    for name in _NUMPY_DTYPE_NAMES:
        dtype_cls = type(np.dtype(name))
        entries.append(dtype_cls)
    return entries


def _torch_reason(err: Exception) -> str:
    """The line(s) of a weights_only error that name what was refused."""
    boilerplate = ('Weights only load failed', 'Check the documentation',
                   'Please file an issue')
    lines = [
        line.strip() for line in str(err).splitlines()
        if line.strip() and not line.strip().startswith(boilerplate)
    ]
    return ' '.join(lines) or str(err)


def load_from_local_safe(filename: str, map_location: Any = None) -> Any:
    """mmengine's local checkpoint loader, with ``weights_only=True`` errors
    rephrased to name the file, the refused global and what to do.

    Args:
        filename (str): Local checkpoint path.
        map_location (str, optional): Same as :func:`torch.load`.

    Returns:
        dict or OrderedDict: The loaded checkpoint.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'checkpoint {filename!r} can not be found. Nothing is '
            'downloaded: put the file there, or point model.pretrained / '
            'load_from (e.g. --cfg-options model.pretrained=PATH) at an '
            'existing local file.')
    try:
        return torch.load(
            filename, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise pickle.UnpicklingError(
            f'refused to load checkpoint {filename!r}: it contains a Python '
            'object that mmseg_fdacl does not allow in checkpoints (loading '
            'it could run arbitrary code). Details from torch: '
            f'{_torch_reason(err)} If you trust this file, load it '
            'once with torch.load(path, weights_only=False) and re-save only '
            'its tensors (state_dict), or, if the object is harmless data, '
            'allow it with torch.serialization.add_safe_globals([...]) '
            'before training.') from err


def register_checkpoint_safe_globals() -> None:
    """Allow-list :func:`checkpoint_safe_globals` and install the loader.

    Called when ``mmseg_fdacl`` is imported; calling it again is a no-op.
    """
    global _registered
    if _registered:
        return
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    # mmengine's own loader for plain paths (prefix '') calls torch.load with
    # torch's default; ours passes weights_only=True explicitly (so it stays
    # safe even if TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD-style defaults change) and
    # gives a clear error.
    CheckpointLoader.register_scheme(
        prefixes='', loader=load_from_local_safe, force=True)
    _registered = True
