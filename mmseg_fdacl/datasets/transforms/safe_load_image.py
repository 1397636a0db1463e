"""LoadImageFromFile that names unreadable files and can skip them."""
import collections
import logging
from typing import Optional

from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS

__all__ = ['SafeLoadImageFromFile']

_ON_ERROR = ('raise', 'skip')


@TRANSFORMS.register_module()
class SafeLoadImageFromFile(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` with clear errors for bad image files.

    mmcv raises a bare ``AssertionError('failed to load image: ...')`` for a
    truncated or non-image file and the raw ``FileNotFoundError`` for a
    missing one. Here both become an ``OSError`` that names the file and
    what to do; with ``on_error='skip'`` the sample is dropped instead (the
    transform returns ``None``, and mmengine's ``BaseDataset`` then draws
    another sample in training) and counted in :attr:`skipped` (per process;
    a warning is logged for each file the first time).

    Required keys: ``img_path``. Added keys: ``img``, ``img_shape``,
    ``ori_shape``.

    Args:
        on_error (str): ``'raise'`` or ``'skip'``. Default: 'raise'.
        **kwargs: As :class:`mmcv.transforms.LoadImageFromFile`.
    """

    #: File name -> how often it was skipped, in this process.
    skipped: collections.Counter = collections.Counter()

    def __init__(self, *, on_error: str = 'raise', **kwargs) -> None:
        if on_error not in _ON_ERROR:
            raise ValueError(f'SafeLoadImageFromFile: on_error must be one '
                             f'of {_ON_ERROR}, got {on_error!r}.')
        if kwargs.get('ignore_empty'):
            raise ValueError("SafeLoadImageFromFile: use on_error='skip' "
                             'instead of ignore_empty=True.')
        super().__init__(**kwargs)
        self.on_error = on_error

    def transform(self, results: dict) -> Optional[dict]:
        """Load the image, or raise/skip naming the file."""
        filename = results['img_path']
        try:
            out = super().transform(results)
            reason = None
        except (AssertionError, OSError, ValueError) as err:
            out, reason = None, f'{type(err).__name__}: {err}'
        if out is not None:
            return out
        if self.on_error == 'raise':
            raise OSError(
                f'cannot read image {filename!r} ({reason}); the file is '
                'missing, truncated or not an image. Restore it (re-extract '
                "or re-download), or set on_error='skip' on "
                'SafeLoadImageFromFile to skip and count such samples.')
        if filename not in SafeLoadImageFromFile.skipped:
            print_log(
                f'SafeLoadImageFromFile: skipping unreadable image '
                f'{filename!r} ({reason}).',
                logger='current',
                level=logging.WARNING)
        SafeLoadImageFromFile.skipped[filename] += 1
        return None

    def __repr__(self) -> str:
        return super().__repr__()[:-1] + f", on_error='{self.on_error}')"
