"""ClassMix: paste the pixels of half of an image's classes onto another image.

Olsson et al., "ClassMix: Segmentation-Based Data Augmentation for
Semi-Supervised Learning", WACV 2021, as used for domain adaptation by
Tranheden et al., "DACS: Domain Adaptation via Cross-domain Mixed Sampling",
WACV 2021: the mask of a source image covers the pixels of half of the
classes in its ground truth, and the mixed sample is
``mask * source + (1 - mask) * target`` for the image, the label (target
pseudo-label) and the pixel weight alike.

Choice rule (DACS ``trainUDA.py``): of a pool of ``n`` classes,
``(n + n % 2) // 2`` are chosen uniformly without replacement, per image.
The pool (``pool``):

* ``'batch'`` (default, DAFormer's ``get_class_masks`` in
  ``mmseg/models/utils/dacs_transforms.py``, which calls ``torch.unique`` on
  the whole batch inside its per-image loop): every value in the batch's
  label maps, ``ignore_index`` included, so a class absent from the image
  may be chosen (it pastes nothing) and ignored source pixels may be pasted
  (as ignored pixels of the mixed label);
* ``'image'``: the classes present in the image itself, ``ignore_index``
  never counted nor chosen.
"""
import torch
from torch import Tensor

from .checks import check_generator

__all__ = ['class_mix_masks', 'mix', 'ClassMix', 'CLASS_POOLS']

CLASS_POOLS = ('batch', 'image')


def _check_ignore_index(owner: str, ignore_index) -> int:
    if not isinstance(ignore_index, int) or isinstance(ignore_index, bool):
        raise ValueError(f'{owner}: `ignore_index` must be an int (the label '
                         f'value of unlabeled pixels, e.g. 255), got '
                         f'{ignore_index!r}.')
    return ignore_index


def _check_pool(owner: str, pool) -> str:
    if pool not in CLASS_POOLS:
        raise ValueError(f'{owner}: `pool` must be one of {CLASS_POOLS} '
                         "('batch': DAFormer's pool), got {pool!r}.")
    return pool


def class_mix_masks(labels: Tensor,
                    generator: torch.Generator,
                    ignore_index: int = 255,
                    pool: str = 'batch') -> Tensor:
    """ClassMix masks: per image, the pixels of half of a pool of classes.

    Args:
        labels (Tensor): ``N x H x W`` integer label maps (the source ground
            truth in DACS).
        generator (torch.Generator): CPU generator for the class choice; one
            ``torch.randperm(n)`` per image, in batch order.
        ignore_index (int): Label value of unlabeled pixels (never counted
            nor chosen with ``pool='image'``). Default: 255.
        pool (str): ``'batch'`` (DAFormer: the values of the whole batch,
            ``ignore_index`` included) or ``'image'`` (the image's own
            classes, without ``ignore_index``). Default: 'batch'.

    Returns:
        Tensor: ``N x 1 x H x W`` float32 masks on ``labels.device``, 1 where
        the pixel's class is among the chosen ones. With ``pool='image'`` an
        image with no labeled pixel gets an all-zero mask.
    """
    owner = 'class_mix_masks'
    check_generator(owner, generator)
    _check_ignore_index(owner, ignore_index)
    _check_pool(owner, pool)
    if not isinstance(labels, Tensor) or labels.dim() != 3:
        shape = tuple(labels.shape) if isinstance(labels, Tensor) else None
        raise ValueError(f'{owner}: `labels` must be an N x H x W tensor '
                         f'(squeeze the channel of N x 1 x H x W maps), got '
                         f'shape {shape}.')
    if labels.dtype.is_floating_point or labels.dtype.is_complex:
        raise ValueError(f'{owner}: `labels` must hold integer class ids, '
                         f'got dtype {labels.dtype}; pass labels.long().')
    n, h, w = labels.shape
    masks = torch.zeros((n, 1, h, w),
                        dtype=torch.float32,
                        device=labels.device)
    batch_classes = torch.unique(labels) if pool == 'batch' else None
    for i in range(n):
        if pool == 'batch':
            classes = batch_classes
        else:
            classes = torch.unique(labels[i])
            classes = classes[classes != ignore_index]
        num = classes.numel()
        # DACS: np.random.choice(n, (n + n % 2) // 2, replace=False).
        order = torch.randperm(num, generator=generator)
        chosen = classes[order[:(num + num % 2) // 2].to(classes.device)]
        masks[i, 0] = torch.isin(labels[i], chosen)
    return masks


def mix(mask: Tensor, foreground: Tensor, background: Tensor) -> Tensor:
    """``mask * foreground + (1 - mask) * background`` with dtypes preserved.

    Args:
        mask (Tensor): ``N x 1 x H x W`` mask, e.g. from
            :func:`class_mix_masks` (``N x H x W`` is accepted too for
            ``N x H x W`` tensors).
        foreground (Tensor): ``N x C x H x W`` images or ``N x H x W`` labels
            or pixel weights, taken where ``mask`` is 1.
        background (Tensor): Same shape, dtype and device as ``foreground``,
            taken where ``mask`` is 0.

    Returns:
        Tensor: The mixed tensor, same shape and dtype as ``foreground``.
        Floating tensors use the formula above (a soft mask blends); integer
        and bool tensors (labels) take the foreground wherever ``mask != 0``,
        so they stay exact.
    """
    owner = 'mix'
    if foreground.shape != background.shape:
        raise ValueError(f'{owner}: `foreground` and `background` must have '
                         f'the same shape, got {tuple(foreground.shape)} and '
                         f'{tuple(background.shape)}.')
    if foreground.dtype != background.dtype:
        raise ValueError(f'{owner}: `foreground` and `background` must have '
                         f'the same dtype, got {foreground.dtype} and '
                         f'{background.dtype}.')
    if foreground.dim() not in (3, 4):
        raise ValueError(f'{owner}: `foreground` must be N x C x H x W or '
                         f'N x H x W, got shape {tuple(foreground.shape)}.')
    n, h, w = (foreground.shape[0], ) + tuple(foreground.shape[-2:])
    allowed = [(n, 1, h, w)] + ([(n, h, w)] if foreground.dim() == 3 else [])
    if tuple(mask.shape) not in allowed:
        raise ValueError(f'{owner}: `mask` must be N x 1 x H x W = '
                         f'{(n, 1, h, w)} (or N x H x W for N x H x W '
                         f'tensors) to match `foreground` of shape '
                         f'{tuple(foreground.shape)}, got shape '
                         f'{tuple(mask.shape)}.')
    if mask.dim() == 4 and foreground.dim() == 3:
        mask = mask[:, 0]
    if foreground.dtype.is_floating_point:
        mask = mask.to(foreground.dtype)
        return mask * foreground + (1 - mask) * background
    return torch.where(mask != 0, foreground, background)


class ClassMix:
    """ClassMix (Olsson et al., WACV 2021) as used by DACS (WACV 2021).

    Holds the setting; :meth:`masks` is :func:`class_mix_masks` and
    :meth:`mix` is :func:`mix`.

    Args:
        ignore_index (int): Label value of unlabeled pixels. Default: 255.
        pool (str): The class pool, see :func:`class_mix_masks`.
            Default: 'batch'.
    """

    def __init__(self, *, ignore_index: int = 255,
                 pool: str = 'batch') -> None:
        self.ignore_index = _check_ignore_index('ClassMix', ignore_index)
        self.pool = _check_pool('ClassMix', pool)

    def masks(self, labels: Tensor, generator: torch.Generator) -> Tensor:
        """``N x 1 x H x W`` masks for ``N x H x W`` labels."""
        return class_mix_masks(labels, generator, self.ignore_index,
                               self.pool)

    @staticmethod
    def mix(mask: Tensor, foreground: Tensor, background: Tensor) -> Tensor:
        """Mix ``foreground`` onto ``background`` where ``mask`` is 1."""
        return mix(mask, foreground, background)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(ignore_index='
                f'{self.ignore_index}, pool={self.pool!r})')
