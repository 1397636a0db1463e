"""Crop boxes of HRDA's multi-resolution training and sliding inference.

HRDA (Hoyer et al., "HRDA: Context-Aware High-Resolution Domain-Adaptive
Semantic Segmentation", ECCV 2022; lhoyer/HRDA
``mmseg/models/segmentors/hrda_encoder_decoder.py`` ``get_crop_bbox``,
``crop``, ``extract_slide_feat`` and ``decode_heads/hrda_head.py``
``scale_box``). A box is ``(y1, y2, x1, x2)`` in pixels, end exclusive.
"""
from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor

from .checks import check_generator

__all__ = ['random_crop_box', 'crop', 'scale_box', 'slide_boxes',
           'paste_average']

Box = Tuple[int, int, int, int]


def random_crop_box(img_h: int, img_w: int, crop_size: Sequence[int],
                    divisible: int, generator: torch.Generator) -> Box:
    """A random ``crop_size`` box inside ``img_h x img_w`` whose offsets
    are multiples of ``divisible`` (HRDA's ``get_crop_bbox``: offsets drawn
    uniformly from ``[0, (margin + 1) // divisible)`` times ``divisible``).

    Args:
        img_h (int): Image height.
        img_w (int): Image width.
        crop_size (Sequence[int]): ``(h, w)`` of the crop.
        divisible (int): Offsets are multiples of it (HRDA: 8).
        generator (torch.Generator): CPU generator of the two draws.

    Returns:
        tuple[int]: ``(y1, y2, x1, x2)``.
    """
    check_generator('random_crop_box', generator)
    ch, cw = int(crop_size[0]), int(crop_size[1])
    if ch <= 0 or cw <= 0 or divisible < 1:
        raise ValueError('random_crop_box: `crop_size` must be positive and '
                         f'`divisible` >= 1, got {tuple(crop_size)} and '
                         f'{divisible}.')
    if (img_h, img_w) == (ch, cw):
        return (0, img_h, 0, img_w)
    offsets = []
    for margin in (max(img_h - ch, 0), max(img_w - cw, 0)):
        high = (margin + 1) // divisible
        if high < 1:
            raise ValueError(
                f'random_crop_box: no offset divisible by {divisible} fits a '
                f'{ch}x{cw} crop in a {img_h}x{img_w} image.')
        offsets.append(
            int(torch.randint(high, (1, ), generator=generator)) * divisible)
    return (offsets[0], offsets[0] + ch, offsets[1], offsets[1] + cw)


def crop(t: Tensor, box: Box) -> Tensor:
    """The ``box`` of the last two dimensions of a 2-, 3- or 4-d tensor."""
    if t.dim() not in (2, 3, 4):
        raise ValueError(f'crop: expected a 2-, 3- or 4-d tensor, got shape '
                         f'{tuple(t.shape)}.')
    y1, y2, x1, x2 = box
    return t[..., y1:y2, x1:x2]


def scale_box(box: Box, scale: float) -> Box:
    """``box`` divided by ``scale`` (HRDA's ``scale_box``: truncated)."""
    return tuple(int(v / scale) for v in box)


def slide_boxes(img_h: int, img_w: int, crop_size: Sequence[int],
                stride: Sequence[int]) -> List[Box]:
    """The boxes of sliding-window inference (MMSeg's grid rule: the last
    window of a row or column is shifted back to end at the border; a crop
    larger than the image is clipped to it)."""
    (ch, cw), (sh, sw) = crop_size, stride
    if min(ch, cw, sh, sw) <= 0:
        raise ValueError('slide_boxes: `crop_size` and `stride` must be '
                         f'positive, got {tuple(crop_size)} and '
                         f'{tuple(stride)}.')
    h_grids = max(img_h - ch + sh - 1, 0) // sh + 1
    w_grids = max(img_w - cw + sw - 1, 0) // sw + 1
    boxes = []
    for i in range(h_grids):
        for j in range(w_grids):
            y2, x2 = min(i * sh + ch, img_h), min(j * sw + cw, img_w)
            boxes.append((max(y2 - ch, 0), y2, max(x2 - cw, 0), x2))
    return boxes


def paste_average(crops: Tensor, boxes: Sequence[Box], batch_size: int,
                  size: Sequence[int]) -> Tensor:
    """Average of crop predictions pasted at their boxes.

    Args:
        crops (Tensor): ``(len(boxes) * N) x C x h x w``, box-major (the
            ``N`` images of box 0 first), each crop the size of its box.
        boxes (Sequence[tuple]): The boxes, in the same order.
        batch_size (int): ``N``.
        size (Sequence[int]): ``(H, W)`` of the output.

    Returns:
        Tensor: ``N x C x H x W``, each pixel the mean of the crops covering
        it.

    Raises:
        ValueError: When a pixel is covered by no box.
    """
    h, w = int(size[0]), int(size[1])
    out = crops.new_zeros((batch_size, crops.shape[1], h, w))
    count = crops.new_zeros((batch_size, 1, h, w))
    for i, (y1, y2, x1, x2) in enumerate(boxes):
        out += F.pad(crops[i * batch_size:(i + 1) * batch_size],
                     (x1, w - x2, y1, h - y2))
        count[:, :, y1:y2, x1:x2] += 1
    if (count == 0).any():
        raise ValueError(f'paste_average: the boxes {list(boxes)} leave '
                         f'pixels of the {h}x{w} output uncovered.')
    return out / count
