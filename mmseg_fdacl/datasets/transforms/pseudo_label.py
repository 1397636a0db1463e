"""Load a target image's pseudo label as its segmentation map.

Pseudo labels are uint8 PNGs of train ids (255 = ignore) written by the
pseudo-label step; :class:`mmseg_fdacl.datasets.UDADataset` puts each one's
path in ``results['pseudo_label_path']``.
"""
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadPseudoLabel(BaseTransform):
    """Load ``results['pseudo_label_path']`` into ``results['gt_seg_map']``.

    Unlike :class:`mmseg.datasets.transforms.LoadAnnotations` it applies no
    ``label_map`` and no ``reduce_zero_label``: pseudo labels are already
    train ids. Put it right after ``LoadImageFromFile`` so that resizes, crops
    and flips move image and label together.

    Required keys: ``pseudo_label_path``, ``img`` (to check the size),
    ``seg_fields``.
    Added keys: ``gt_seg_map`` (uint8 H x W).
    Modified keys: ``seg_fields`` (gains ``'gt_seg_map'``).

    Args:
        imdecode_backend (str): mmcv image decoding backend. Default: 'cv2'.
        backend_args (dict, optional): mmengine file backend arguments.
            Default: None.
    """

    def __init__(self, imdecode_backend: str = 'cv2',
                 backend_args: dict = None) -> None:
        self.imdecode_backend = imdecode_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        """Read the pseudo label and register it as a segmentation field."""
        path = results.get('pseudo_label_path')
        if path is None:
            raise KeyError(
                'LoadPseudoLabel: the sample has no `pseudo_label_path`; set '
                '`pseudo_label_dir` of the UDADataset (e.g. --cfg-options '
                'train_dataloader.dataset.pseudo_label_dir=DIR) or remove '
                f"LoadPseudoLabel from the target pipeline (image "
                f"{results.get('img_path')!r}).")
        label = mmcv.imfrombytes(
            fileio.get(path, backend_args=self.backend_args),
            flag='unchanged',
            backend=self.imdecode_backend)
        if label is None or label.ndim != 2:
            raise ValueError(
                f'LoadPseudoLabel: {path!r} must be a single-channel PNG of '
                f'train ids, got shape '
                f'{None if label is None else label.shape}.')
        if 'img' in results and results['img'].shape[:2] != label.shape:
            raise ValueError(
                f'LoadPseudoLabel: pseudo label {path!r} is '
                f'{label.shape[0]}x{label.shape[1]} but its image '
                f"{results.get('img_path')!r} is "
                f"{results['img'].shape[0]}x{results['img'].shape[1]}; "
                'regenerate the pseudo labels for this target set.')
        results['gt_seg_map'] = label.astype(np.uint8)
        results.setdefault('seg_fields', []).append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(imdecode_backend='
                f'{self.imdecode_backend!r}, '
                f'backend_args={self.backend_args})')
