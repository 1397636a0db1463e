"""Crash-safe file writes: write a temporary file, fsync, then rename.

``os.replace`` within one directory is atomic on POSIX, so a reader (or a
resumed run) sees either the old file or the complete new one, never a
truncated one, whatever moment the writer is killed at.
"""
import os
import os.path as osp
import uuid
from pathlib import Path
from typing import Callable, Union

from mmengine.fileio import LocalBackend, register_backend

__all__ = [
    'atomic_write', 'atomic_write_with', 'is_temporary', 'AtomicLocalBackend',
    'ATOMIC_BACKEND', 'TMP_MARKER'
]

#: Name under which :class:`AtomicLocalBackend` is registered in mmengine's
#: file backends (``backend_args=dict(backend='atomic_local')``).
ATOMIC_BACKEND = 'atomic_local'

#: Part of every temporary name (``.<stem>.tmp-<hex><ext>``).
TMP_MARKER = '.tmp-'


def _fsync_dir(dirname: str) -> None:
    try:
        fd = os.open(dirname, os.O_RDONLY)
    except OSError:  # e.g. directories cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_with(path: Union[str, Path],
                      write: Callable[[str], None],
                      *,
                      fsync: bool = True) -> None:
    """Create ``path`` through ``write(tmp_path)`` and an atomic rename.

    ``write`` gets a temporary name in the same directory (``os.replace`` is
    atomic only within one file system) that keeps the extension, as writers
    such as ``cv2.imwrite`` need: ``.<stem>.tmp-<hex><ext>``. On success the
    file is fsynced (``fsync=True``) and renamed over ``path``; on any
    failure the temporary file is removed and ``path`` is left as it was.

    Args:
        path (str | Path): Destination file.
        write (callable): Writes the content to the path it is given.
        fsync (bool): Flush the file and the directory to disk, so the
            result survives a power cut. Default: True.
    """
    path = str(path)
    dirname = osp.dirname(osp.abspath(path))
    os.makedirs(dirname, exist_ok=True)
    stem, ext = osp.splitext(osp.basename(path))
    tmp = osp.join(dirname, f'.{stem}{TMP_MARKER}{uuid.uuid4().hex}{ext}')
    try:
        write(tmp)
        if fsync:
            with open(tmp, 'rb+') as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    if fsync:
        _fsync_dir(dirname)


def is_temporary(name: str) -> bool:
    """Whether a file name is a leftover of :func:`atomic_write_with`."""
    return name.startswith('.') and TMP_MARKER in name


def atomic_write(path: Union[str, Path], data: Union[bytes, str],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``path`` so that ``path`` is never partially written.

    Args:
        path (str | Path): Destination file.
        data (bytes | str): Content; ``str`` is encoded with ``encoding``.
        encoding (str): Text encoding. Default: 'utf-8'.
    """
    if isinstance(data, str):
        data = data.encode(encoding)

    def write(tmp: str) -> None:
        with open(tmp, 'wb') as f:
            f.write(data)

    atomic_write_with(path, write)


@register_backend(ATOMIC_BACKEND)
class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose writes are atomic.

    Select it with ``backend_args=dict(backend='atomic_local')``, e.g. for
    ``CheckpointHook``; :class:`AtomicCheckpointHook` does so by default.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Atomically write bytes to ``filepath``."""
        atomic_write(filepath, obj)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        """Atomically write text to ``filepath``."""
        atomic_write(filepath, obj, encoding=encoding)
