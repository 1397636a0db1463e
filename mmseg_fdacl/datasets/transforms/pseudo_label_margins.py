"""HRDA's pseudo-label margins, cut in the loader before the crop.

HRDA (Hoyer et al., ECCV 2022; lhoyer/HRDA ``mmseg/datasets/cityscapes.py``
``crop_pseudo_margins``, "pseudo-label cropping v2") does not trust the
teacher near the border of the whole target image (rectification artefacts,
the ego car): a mask of the resized image, 0 on the top, bottom, left and
right margins, is cropped and flipped with the image, so a margin is only
masked where the training crop reaches the image's border. The segmentor
multiplies the pseudo-label weight by it.
"""
from typing import Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

__all__ = ['PseudoLabelMargins', 'PackSegInputsWithMargins']


@TRANSFORMS.register_module()
class PseudoLabelMargins(BaseTransform):
    """Add ``valid_pseudo_mask``: ones with zero margins, image-sized.

    Put it after the ``Resize`` and before ``RandomCrop``/``RandomFlip``
    (they move every key of ``seg_fields``), and pack with
    :class:`PackSegInputsWithMargins`.

    Required keys: ``img``. Added keys: ``valid_pseudo_mask`` (uint8
    ``H x W``). Modified keys: ``seg_fields``.

    Args:
        margins (Sequence[int]): Rows/columns at the ``(top, bottom, left,
            right)`` with weight 0 (HRDA on Cityscapes 2048x1024:
            ``(30, 240, 30, 30)``).
    """

    def __init__(self, margins: Sequence[int] = (30, 240, 30, 30)) -> None:
        if (not isinstance(margins, (list, tuple)) or len(margins) != 4
                or not all(isinstance(m, int) and not isinstance(m, bool)
                           and m >= 0 for m in margins)):
            raise ValueError('PseudoLabelMargins: `margins` must be four '
                             'ints >= 0 (top, bottom, left, right), got '
                             f'{margins!r}.')
        self.margins = tuple(margins)

    def transform(self, results: dict) -> dict:
        """Add the mask of the current (resized) image size."""
        h, w = results['img'].shape[:2]
        top, bottom, left, right = self.margins
        mask = np.zeros((h, w), dtype=np.uint8)
        mask[top:max(h - bottom, top), left:max(w - right, left)] = 1
        results['valid_pseudo_mask'] = mask
        fields = results.setdefault('seg_fields', [])
        if 'valid_pseudo_mask' not in fields:
            fields.append('valid_pseudo_mask')
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(margins={self.margins})'


@TRANSFORMS.register_module()
class PackSegInputsWithMargins(PackSegInputs):
    """MMSeg's :class:`PackSegInputs`, plus ``valid_pseudo_mask`` (from
    :class:`PseudoLabelMargins`) as the sample's ``valid_pseudo_mask``
    (``PixelData``, ``1 x H x W``).

    Required keys: as PackSegInputs, and ``valid_pseudo_mask``.
    """

    def transform(self, results: dict) -> dict:
        """Pack as PackSegInputs and add the mask."""
        if 'valid_pseudo_mask' not in results:
            raise KeyError(
                'PackSegInputsWithMargins: no valid_pseudo_mask; put '
                'PseudoLabelMargins before the crop in this pipeline.')
        packed = super().transform(results)
        mask = torch.from_numpy(
            np.ascontiguousarray(results['valid_pseudo_mask']))[None]
        packed['data_samples'].set_data(
            dict(valid_pseudo_mask=PixelData(data=mask)))
        return packed
