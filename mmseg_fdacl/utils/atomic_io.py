"""Crash-safe file writes: write a temporary file, fsync, then rename.

``os.replace`` within one directory is atomic on POSIX, so a reader (or a
resumed run) sees either the old file or the complete new one, never a
truncated one, whatever moment the writer is killed at.
"""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend

__all__ = ['atomic_write', 'AtomicLocalBackend', 'ATOMIC_BACKEND']

#: Name under which :class:`AtomicLocalBackend` is registered in mmengine's
#: file backends (``backend_args=dict(backend='atomic_local')``).
ATOMIC_BACKEND = 'atomic_local'


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


def atomic_write(path: Union[str, Path], data: Union[bytes, str],
                 encoding: str = 'utf-8') -> None:
    """Write ``data`` to ``path`` so that ``path`` is never partially written.

    The data goes to a temporary file in the same directory (a hidden
    ``.<name>.*.tmp``), which is flushed, fsynced and renamed over ``path``;
    the directory is fsynced so the rename survives a power cut. A failure
    removes the temporary file and leaves ``path`` as it was.

    Args:
        path (str | Path): Destination file.
        data (bytes | str): Content; ``str`` is encoded with ``encoding``.
        encoding (str): Text encoding. Default: 'utf-8'.
    """
    path = str(path)
    dirname = osp.dirname(osp.abspath(path))
    os.makedirs(dirname, exist_ok=True)
    if isinstance(data, str):
        data = data.encode(encoding)
    fd, tmp = tempfile.mkstemp(
        prefix=f'.{osp.basename(path)}.', suffix='.tmp', dir=dirname)
    try:
        # mkstemp creates 0600 files; give the usual open() permissions.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    _fsync_dir(dirname)


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
