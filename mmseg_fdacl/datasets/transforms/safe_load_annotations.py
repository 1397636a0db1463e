"""LoadAnnotations that names unreadable or mis-sized label files."""
from mmseg.datasets.transforms import LoadAnnotations
from mmseg.registry import TRANSFORMS

__all__ = ['SafeLoadAnnotations']


@TRANSFORMS.register_module()
class SafeLoadAnnotations(LoadAnnotations):
    """MMSeg's ``LoadAnnotations`` with clear errors for bad label maps.

    MMSeg fails on an unreadable label map with ``'NoneType' object has no
    attribute 'squeeze'``, and on a label map whose size differs from its
    image only later, in a crop or the loss, without naming a file. Here:

    * an unreadable label map raises ``OSError`` naming the file;
    * when the image is already loaded, a label map of another height or
      width raises ``ValueError`` naming both files and both sizes.

    Required keys: ``seg_map_path``, ``reduce_zero_label``, ``seg_fields``
    (and ``img`` for the size check). Added keys: ``gt_seg_map``.

    Args: as :class:`mmseg.datasets.transforms.LoadAnnotations`.
    """

    def _load_seg_map(self, results: dict) -> None:
        path = results['seg_map_path']
        try:
            super()._load_seg_map(results)
        except (AttributeError, OSError, ValueError) as err:
            raise OSError(
                f'cannot read label map {path!r} ({type(err).__name__}: '
                f'{err}); the file is missing, truncated or not a PNG. '
                'Restore it or re-run the label converter.') from err
        img = results.get('img')
        label = results['gt_seg_map']
        if img is not None and tuple(img.shape[:2]) != tuple(label.shape[:2]):
            raise ValueError(
                f'label map {path!r} is {label.shape[0]}x{label.shape[1]} '
                f'(h x w) but its image {results.get("img_path")!r} is '
                f'{img.shape[0]}x{img.shape[1]}; they must have the same '
                'size. Re-export the pair (GTA5 has a few known mismatched '
                'frames: remove them from the split or resize the label with '
                'nearest-neighbour interpolation).')
