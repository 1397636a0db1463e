"""Random block masks for masked image consistency.

Hoyer et al., "MIC: Masked Image Consistency for Context-Enhanced Domain
Adaptation", CVPR 2023. The rule follows MIC's ``BlockMaskGenerator``
(``seg/mmseg/models/utils/masking_transforms.py``): an image of ``H x W`` is
covered by ``round(H / b) x round(W / b)`` blocks of nominal size ``b``; each
block is kept (1) when ``U(0, 1) > ratio``, i.e. with probability
``1 - ratio``, and the block grid is resized to ``H x W`` with nearest
interpolation, so blocks are only approximately ``b`` pixels wide when ``b``
does not divide the image size. The masked image is ``img * mask`` on the
normalized image, so a masked pixel equals the normalization mean.

One difference from MIC: an image smaller than half a block (where ``round``
gives 0 blocks and MIC fails) gets one block.
"""
from typing import Optional, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .checks import check_generator, check_positive_int

__all__ = ['block_masks', 'mask_images', 'BlockMasking']


def _check_ratio(owner: str, ratio) -> float:
    if (not isinstance(ratio, (int, float)) or isinstance(ratio, bool)
            or not 0.0 <= ratio < 1.0):
        raise ValueError(f'{owner}: `ratio` (the expected fraction of masked '
                         f'blocks) must be in [0, 1), got {ratio!r}.')
    return float(ratio)


def block_masks(n: int,
                h: int,
                w: int,
                *,
                generator: torch.Generator,
                block_size: int = 64,
                ratio: float = 0.7,
                device: Optional[Union[str, torch.device]] = None) -> Tensor:
    """MIC block masks: 1 keeps a pixel, 0 masks it out.

    Args:
        n (int): Number of masks (batch size).
        h (int): Image height.
        w (int): Image width.
        generator (torch.Generator): CPU generator; one float32
            ``torch.rand(n, 1, gh, gw)`` per call.
        block_size (int): Nominal block side in pixels. Default: 64 (MIC).
        ratio (float): Probability that a block is masked, in ``[0, 1)``.
            Default: 0.7 (MIC).
        device (str | torch.device, optional): Device of the result.
            Default: None (CPU).

    Returns:
        Tensor: ``N x 1 x H x W`` float32 mask of zeros and ones.
    """
    owner = 'block_masks'
    check_generator(owner, generator)
    for name, value in (('n', n), ('h', h), ('w', w), ('block_size',
                                                       block_size)):
        check_positive_int(owner, name, value)
    ratio = _check_ratio(owner, ratio)
    # MIC: round(H / block_size) blocks (Python's round), at least one here.
    grid_h = max(1, round(h / block_size))
    grid_w = max(1, round(w / block_size))
    draws = torch.rand((n, 1, grid_h, grid_w), generator=generator)
    grid = (draws > ratio).float().to(device)
    return F.interpolate(grid, size=(h, w), mode='nearest')


def mask_images(imgs: Tensor, mask: Tensor) -> Tensor:
    """``imgs * mask``: zero (the normalization mean) where ``mask`` is 0.

    Args:
        imgs (Tensor): ``N x C x H x W`` normalized images.
        mask (Tensor): ``N x 1 x H x W`` mask, e.g. from :func:`block_masks`.

    Returns:
        Tensor: Masked images, same shape and dtype as ``imgs``.
    """
    if imgs.dim() != 4:
        raise ValueError('mask_images: `imgs` must be N x C x H x W, got '
                         f'shape {tuple(imgs.shape)}.')
    n, _, h, w = imgs.shape
    if tuple(mask.shape) != (n, 1, h, w):
        raise ValueError(f'mask_images: `mask` must be N x 1 x H x W = '
                         f'{(n, 1, h, w)} to match `imgs`, got shape '
                         f'{tuple(mask.shape)}.')
    return imgs * mask.to(imgs.dtype)


class BlockMasking:
    """MIC block masking (Hoyer et al., CVPR 2023) with its settings.

    :meth:`masks` is :func:`block_masks` sized to a batch and
    ``__call__`` masks the batch (MIC's ``mask_image``).

    Args:
        block_size (int): Nominal block side in pixels. Default: 64.
        ratio (float): Probability that a block is masked, in ``[0, 1)``.
            Default: 0.7.
    """

    def __init__(self, *, block_size: int = 64, ratio: float = 0.7) -> None:
        self.block_size = check_positive_int('BlockMasking', 'block_size',
                                             block_size)
        self.ratio = _check_ratio('BlockMasking', ratio)

    def masks(self, imgs: Tensor, generator: torch.Generator) -> Tensor:
        """``N x 1 x H x W`` masks for ``N x C x H x W`` images."""
        if imgs.dim() != 4:
            raise ValueError('BlockMasking: `imgs` must be N x C x H x W, '
                             f'got shape {tuple(imgs.shape)}.')
        n, _, h, w = imgs.shape
        return block_masks(
            n,
            h,
            w,
            generator=generator,
            block_size=self.block_size,
            ratio=self.ratio,
            device=imgs.device)

    def __call__(self, imgs: Tensor, generator: torch.Generator) -> Tensor:
        """Masked copies of ``imgs``."""
        return mask_images(imgs, self.masks(imgs, generator))

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(block_size={self.block_size}, '
                f'ratio={self.ratio})')
