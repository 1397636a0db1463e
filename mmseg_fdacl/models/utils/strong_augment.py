"""DACS/DAFormer strong augmentation: color jitter and Gaussian blur.

Tranheden et al., "DACS: Domain Adaptation via Cross-domain Mixed Sampling",
WACV 2021 (``utils/transformsgpu.py``) and Hoyer et al., "DAFormer: Improving
Network Architectures and Training Strategies for Domain-Adaptive Semantic
Segmentation", CVPR 2022 (``mmseg/models/utils/dacs_transforms.py``); MIC
(CVPR 2023) applies the same transform to target images before masking.
DAFormer applies it after ClassMix, so mix first, then call
:func:`strong_transform` on the mixed images.

The transform works on normalized images: it denormalizes with the given
per-channel ``mean``/``std`` to the 0-255 range, jitters colors on the
0-1 scale with kornia 0.5.8's ``ColorJitter`` formulas (the version DAFormer
pins), blurs, and renormalizes. The channel order does not matter: brightness,
contrast and saturation treat the channels symmetrically, and a hue rotation
by ``f`` on BGR data equals a rotation by ``-f`` on RGB data, which has the
same distribution because ``f ~ U(-s, s)``. So the BGR caffe mean with std 1
of the DeepLabV2 configs needs nothing special (DACS itself jittered BGR).
"""
import math
from typing import Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor

from .checks import check_generator, check_non_negative, check_probability

__all__ = [
    'strong_transform', 'StrongTransform', 'color_jitter', 'gaussian_blur',
    'blur_kernel_size', 'JITTER_KEYS'
]

# The adjustments in kornia's order; indices 0-3 in ``order``.
JITTER_KEYS = ('brightness', 'contrast', 'saturation', 'hue')
# DAFormer's gaussian_blur: sigma ~ U(0.15, 1.15).
SIGMA_RANGE = (0.15, 1.15)
# The blur is applied when a uniform draw is below this (probability 0.5).
BLUR_PROBABILITY = 0.5

StrengthType = Union[float, Mapping[str, float]]
ChannelValues = Union[Tensor, Sequence[float]]
_Range = Optional[Tuple[float, float]]


def blur_kernel_size(size: int) -> int:
    """Odd Gaussian kernel size for an image side of ``size`` pixels.

    About a tenth of the side: ``k = ceil(0.1 * size)``, minus one if even
    (DACS/DAFormer's ``floor(ceil(0.1 * size) - 0.5 + ceil(0.1 * size) % 2)``,
    evaluated in the same floating point), e.g. 51 for 512 and 103 for 1024.

    Args:
        size (int): Image height (for the vertical kernel) or width.

    Returns:
        int: Odd kernel size >= 1.
    """
    k = math.ceil(0.1 * size)
    return int(math.floor(k - 0.5 + k % 2))


def _gaussian_kernel(size: int, sigma: float, like: Tensor) -> Tensor:
    # kornia.filters.gaussian for odd sizes: exp(-x^2 / 2 sigma^2), summed 1.
    x = torch.arange(size, dtype=torch.float64) - size // 2
    kernel = torch.exp(-x.pow(2) / (2 * sigma**2))
    return (kernel / kernel.sum()).to(device=like.device, dtype=like.dtype)


def gaussian_blur(imgs: Tensor,
                  sigma: float,
                  kernel_size: Optional[Tuple[int, int]] = None) -> Tensor:
    """Per-channel Gaussian blur with reflected borders.

    Same result as ``kornia.filters.gaussian_blur2d(imgs, kernel_size,
    (sigma, sigma), border_type='reflect')`` up to rounding: the kernel is
    applied as two 1-D passes instead of one 2-D outer-product kernel.

    Args:
        imgs (Tensor): ``N x C x H x W`` floating images.
        sigma (float): Standard deviation in pixels, > 0.
        kernel_size (tuple[int, int], optional): Odd ``(kh, kw)``, each
            smaller than twice the matching side. Default: None, which uses
            ``(blur_kernel_size(H), blur_kernel_size(W))`` as DAFormer.

    Returns:
        Tensor: Blurred images, same shape and dtype.
    """
    owner = 'gaussian_blur'
    if imgs.dim() != 4 or not imgs.dtype.is_floating_point:
        raise ValueError(f'{owner}: `imgs` must be a floating N x C x H x W '
                         f'tensor, got shape {tuple(imgs.shape)} and dtype '
                         f'{imgs.dtype}.')
    if (not isinstance(sigma, (int, float)) or isinstance(sigma, bool)
            or not math.isfinite(sigma) or sigma <= 0):
        raise ValueError(f'{owner}: `sigma` must be a finite number > 0, got '
                         f'{sigma!r}.')
    _, channels, h, w = imgs.shape
    if kernel_size is None:
        kernel_size = (blur_kernel_size(h), blur_kernel_size(w))
    for k, side, axis in zip(kernel_size, (h, w), ('height', 'width')):
        if (not isinstance(k, int) or isinstance(k, bool) or k < 1
                or k % 2 == 0 or k // 2 >= side):
            raise ValueError(f'{owner}: `kernel_size` must be odd ints >= 1 '
                             f'whose half is below the image {axis} '
                             f'({side}) for reflected borders, got '
                             f'{kernel_size!r}.')
    kh, kw = kernel_size
    if kh == 1 and kw == 1:
        return imgs.clone()
    out = F.pad(imgs, (kw // 2, kw // 2, kh // 2, kh // 2), mode='reflect')
    vertical = _gaussian_kernel(kh, sigma, imgs).view(1, 1, kh, 1)
    horizontal = _gaussian_kernel(kw, sigma, imgs).view(1, 1, 1, kw)
    out = F.conv2d(out, vertical.expand(channels, 1, kh, 1), groups=channels)
    return F.conv2d(
        out, horizontal.expand(channels, 1, 1, kw), groups=channels)


def _rgb_to_hsv(x: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
    """Hue in turns ``[0, 1)``, saturation and value, as kornia's
    ``rgb_to_hsv`` (ties go to the first channel) without its ``eps``."""
    r, g, b = x.unbind(-3)
    value = x.max(-3).values
    delta = value - x.min(-3).values
    saturation = delta / torch.where(value > 0, value, torch.ones_like(value))
    safe_delta = torch.where(delta > 0, delta, torch.ones_like(delta))
    hue = torch.where(
        r == value, (g - b) / safe_delta,
        torch.where(g == value, 2 + (b - r) / safe_delta,
                    4 + (r - g) / safe_delta))
    return torch.remainder(hue / 6, 1.0), saturation, value


def _hsv_to_rgb(hue: Tensor, saturation: Tensor, value: Tensor) -> Tensor:
    # Closed form of the sector table (Wikipedia, "HSL and HSV", HSV to RGB
    # alternative): c_n = V - V S clamp(min(t, 4 - t), 0, 1),
    # t = (n + 6 H) mod 6, n = 5, 3, 1 for the three channels.
    channels = []
    for n in (5, 3, 1):
        t = torch.remainder(n + 6 * hue, 6.0)
        weight = torch.minimum(t, 4 - t).clamp(0, 1)
        channels.append(value - value * saturation * weight)
    return torch.stack(channels, dim=-3)


def _per_image(factor, n: int, like: Tensor, name: str) -> Tensor:
    factor = torch.as_tensor(factor, dtype=like.dtype, device=like.device)
    if factor.dim() == 0:
        factor = factor.expand(n)
    if tuple(factor.shape) != (n, ):
        raise ValueError(f'color_jitter: `{name}` must be a number or a '
                         f'tensor of shape ({n},) (one per image), got shape '
                         f'{tuple(factor.shape)}.')
    return factor.view(n, 1, 1)


def color_jitter(imgs: Tensor,
                 *,
                 brightness=None,
                 contrast=None,
                 saturation=None,
                 hue=None,
                 order: Sequence[int] = (0, 1, 2, 3)) -> Tensor:
    """Deterministic color jitter of kornia 0.5.8's ``ColorJitter``.

    On images in ``[0, 1]``, per image ``i`` (a factor of None skips that
    adjustment):

    * brightness: ``clamp(x + (brightness_i - 1), 0, 1)`` (additive, as
      kornia; torchvision multiplies instead);
    * contrast: ``clamp(x * contrast_i, 0, 1)`` (kornia 0.5.8 scales; it does
      not blend with the mean gray as torchvision does);
    * saturation: HSV saturation times ``saturation_i``, clamped to
      ``[0, 1]``;
    * hue: HSV hue shifted by ``hue_i`` turns (kornia's ``hue_factor``,
      which it multiplies by ``2 pi`` radians).

    Args:
        imgs (Tensor): ``N x 3 x H x W`` floating images in ``[0, 1]``.
        brightness, contrast, saturation, hue (float | Tensor, optional):
            Factors, a number or one per image (shape ``(N,)``). Default:
            None (skip).
        order (Sequence[int]): Order of the adjustments as indices into
            :data:`JITTER_KEYS`, a permutation of ``(0, 1, 2, 3)``.
            Default: (0, 1, 2, 3).

    Returns:
        Tensor: Jittered images, same shape and dtype.
    """
    if (imgs.dim() != 4 or imgs.shape[1] != 3
            or not imgs.dtype.is_floating_point):
        raise ValueError('color_jitter: `imgs` must be a floating N x 3 x H '
                         f'x W tensor, got shape {tuple(imgs.shape)} and '
                         f'dtype {imgs.dtype}.')
    order = [int(i) for i in order]
    if sorted(order) != [0, 1, 2, 3]:
        raise ValueError('color_jitter: `order` must be a permutation of '
                         f'(0, 1, 2, 3) (indices into {JITTER_KEYS}), got '
                         f'{order!r}.')
    n = imgs.shape[0]
    factors = [
        None if f is None else _per_image(f, n, imgs, name)
        for f, name in zip((brightness, contrast, saturation,
                            hue), JITTER_KEYS)
    ]
    out = imgs
    for index in order:
        factor = factors[index]
        if factor is None:
            continue
        if index == 0:
            out = (out + (factor.unsqueeze(1) - 1)).clamp(0, 1)
        elif index == 1:
            out = (out * factor.unsqueeze(1)).clamp(0, 1)
        else:
            h, s, v = _rgb_to_hsv(out)
            if index == 2:
                s = (s * factor).clamp(0, 1)
            else:
                h = torch.remainder(h + factor, 1.0)
            out = _hsv_to_rgb(h, s, v)
    return out


def _jitter_ranges(owner: str, strength) -> Tuple[_Range, ...]:
    """Factor ranges per adjustment (None where the strength is 0).

    kornia's ``_range_bound``: ``[1 - s, 1 + s]`` clipped to ``[0, 2]`` for
    brightness and to ``[0, inf)`` for contrast and saturation;
    ``[-s, s]`` clipped to ``[-0.5, 0.5]`` for hue.
    """
    if isinstance(strength, Mapping):
        unknown = sorted(set(strength) - set(JITTER_KEYS))
        if unknown:
            raise ValueError(f'{owner}: unknown `color_jitter_s` keys '
                             f'{unknown}; allowed: {list(JITTER_KEYS)}.')
        values = [
            check_non_negative(owner, f"color_jitter_s['{key}']",
                               strength.get(key, 0.0)) for key in JITTER_KEYS
        ]
    else:
        values = [check_non_negative(owner, 'color_jitter_s', strength)] * 4
    bounds = ((0.0, 2.0), (0.0, math.inf), (0.0, math.inf), (-0.5, 0.5))
    ranges = []
    for index, (s, (low, high)) in enumerate(zip(values, bounds)):
        center = 0.0 if index == 3 else 1.0
        ranges.append(None if s == 0 else (max(low, center - s),
                                           min(high, center + s)))
    return tuple(ranges)


def _channel_values(owner: str, name: str, values, channels: int,
                    like: Tensor) -> Tensor:
    try:
        tensor = torch.as_tensor(values, dtype=torch.float64).flatten()
    except (TypeError, ValueError):
        raise ValueError(f'{owner}: `{name}` must be {channels} numbers (one '
                         f'per channel), got {values!r}.') from None
    if tensor.numel() != channels or not torch.isfinite(tensor).all():
        raise ValueError(f'{owner}: `{name}` must be {channels} finite '
                         f'numbers (one per channel, in the order of the '
                         f'image channels), got {values!r}.')
    if name == 'std' and not (tensor > 0).all():
        raise ValueError(f'{owner}: `std` must be > 0 per channel, got '
                         f'{values!r}.')
    return tensor.to(
        device=like.device, dtype=like.dtype).view(1, channels, 1, 1)


def strong_transform(imgs: Tensor,
                     mean: ChannelValues,
                     std: ChannelValues,
                     generator: torch.Generator,
                     *,
                     color_jitter_p: float = 0.8,
                     color_jitter_s: StrengthType = 0.2,
                     blur: bool = True) -> Tensor:
    """DACS/DAFormer strong transform of a batch of normalized images.

    Denormalize (``x * std + mean``, 0-255), color jitter with probability
    ``color_jitter_p`` (all four adjustments in one random order, factors per
    image drawn uniformly from the ranges of kornia's
    ``ColorJitter(s, s, s, s)``: ``[1 - s, 1 + s]`` for brightness, contrast
    and saturation, ``[-s, s]`` turns for hue; see :func:`color_jitter`),
    then with probability 0.5 (when ``blur``) a Gaussian blur with
    ``sigma ~ U(0.15, 1.15)`` and the kernel size of
    :func:`blur_kernel_size` per side, and renormalize.

    Random draws, one set per call (as DAFormer's ``strong_transform`` called
    on a batch, which is how MIC calls it): the jitter and blur decisions,
    the jitter order and sigma are shared by the batch, the jitter factors
    are per image. The generator advances by the same amount on every call
    with the same batch size, whatever the settings and outcomes; the stream
    is, all ``float64`` on CPU: ``rand(2)`` (jitter iff ``u0 <
    color_jitter_p``, blur iff ``u1 < 0.5``), ``rand(N, 4)`` (factors
    ``low + (high - low) * u`` in :data:`JITTER_KEYS` order), ``rand(4)``
    (order = argsort) and ``rand(1)`` (``sigma = 0.15 + u``).

    Differences from DACS/DAFormer:

    * ``color_jitter_p`` is the probability of jittering. DAFormer's
      ``color_jitter_probability=0.2`` is a threshold (jitter iff
      ``U(0, 1) > 0.2``), i.e. probability 0.8, so the default here is 0.8;
      DACS also jitters with probability 0.8 (``colorJitter > 0.2``).
    * DACS's strength is 0.25 (``transformsgpu.colorJitter``), DAFormer's
      0.2 (the default here).
    * In DAFormer's DACS step the decisions are drawn once per training step
      but ``strong_transform`` runs once per mixed image, so the order and
      sigma differ between images there; here they are shared by the batch
      given (call once per image for per-image order and sigma; the
      decisions are then per image too).
    * Draws come from ``generator``, not Python's, numpy's and torch's global
      generators.
    * The HSV conversion omits kornia's ``eps = 1e-6`` in
      ``S = delta / (V + eps)`` (a relative change below ``1e-6``), an
      adjustment of strength 0 is skipped (kornia applies it as an identity
      up to rounding), and the blur is two 1-D passes instead of one 2-D
      kernel (the same up to rounding).

    As in kornia, jittering clamps the denormalized image to ``[0, 255]``;
    without jitter and blur the images come back unchanged (a copy).

    Args:
        imgs (Tensor): ``N x 3 x H x W`` normalized floating images.
        mean (Tensor | Sequence[float]): Per-channel mean used to normalize
            ``imgs`` (0-255 scale, in the order of the image channels).
        std (Tensor | Sequence[float]): Per-channel std (> 0), e.g. 1 for the
            caffe normalization of the DeepLabV2 configs.
        generator (torch.Generator): CPU generator for all draws.
        color_jitter_p (float): Probability of color jitter, in ``[0, 1]``.
            Default: 0.8 (DAFormer's threshold 0.2).
        color_jitter_s (float | Mapping[str, float]): Strength ``s >= 0`` of
            all four adjustments, or per adjustment keyed by
            :data:`JITTER_KEYS` (missing keys are 0, i.e. skipped), as
            DAFormer's dict form. Default: 0.2.
        blur (bool): Whether the blur may be applied. Default: True.

    Returns:
        Tensor: Transformed normalized images, same shape, dtype and device.
    """
    owner = 'strong_transform'
    check_generator(owner, generator)
    color_jitter_p = check_probability(owner, 'color_jitter_p', color_jitter_p)
    ranges = _jitter_ranges(owner, color_jitter_s)
    if not isinstance(blur, bool):
        raise ValueError(f'{owner}: `blur` must be a bool, got {blur!r}.')
    if (not isinstance(imgs, Tensor) or imgs.dim() != 4 or imgs.shape[1] != 3
            or not imgs.dtype.is_floating_point):
        raise ValueError(f'{owner}: `imgs` must be a floating N x 3 x H x W '
                         f'tensor, got {_describe(imgs)}.')
    work_dtype = torch.float64 if imgs.dtype == torch.float64 else \
        torch.float32
    work = imgs.to(work_dtype)
    mean = _channel_values(owner, 'mean', mean, 3, work)
    std = _channel_values(owner, 'std', std, 3, work)
    n = imgs.shape[0]
    decisions = torch.rand(2, generator=generator, dtype=torch.float64)
    factor_draws = torch.rand((n, 4), generator=generator, dtype=torch.float64)
    order_draws = torch.rand(4, generator=generator, dtype=torch.float64)
    sigma_draw = torch.rand(1, generator=generator, dtype=torch.float64)
    do_jitter = (
        decisions[0].item() < color_jitter_p
        and any(r is not None for r in ranges))
    do_blur = blur and decisions[1].item() < BLUR_PROBABILITY
    if not (do_jitter or do_blur):
        return imgs.clone()

    out = work * std + mean
    if do_jitter:
        factors = {}
        for index, (key, bounds) in enumerate(zip(JITTER_KEYS, ranges)):
            factors[key] = None if bounds is None else (
                bounds[0] + (bounds[1] - bounds[0]) * factor_draws[:, index])
        order = torch.argsort(order_draws).tolist()
        out = color_jitter(out / 255, order=order, **factors) * 255
    if do_blur:
        sigma = SIGMA_RANGE[0] + (SIGMA_RANGE[1] -
                                  SIGMA_RANGE[0]) * sigma_draw.item()
        out = gaussian_blur(out, sigma)
    return ((out - mean) / std).to(imgs.dtype)


def _describe(value) -> str:
    if isinstance(value, Tensor):
        return f'shape {tuple(value.shape)} and dtype {value.dtype}'
    return repr(type(value))


class StrongTransform:
    """The DACS/DAFormer strong transform with its settings.

    Tranheden et al., WACV 2021; Hoyer et al., CVPR 2022. Calls
    :func:`strong_transform`; see there for the rule and the differences
    from the reference code. Settings are checked here, at build time.

    Args:
        color_jitter_p (float): Probability of color jitter. Default: 0.8.
        color_jitter_s (float | Mapping[str, float]): Jitter strength.
            Default: 0.2.
        blur (bool): Whether the blur may be applied. Default: True.
    """

    def __init__(self,
                 *,
                 color_jitter_p: float = 0.8,
                 color_jitter_s: StrengthType = 0.2,
                 blur: bool = True) -> None:
        owner = 'StrongTransform'
        self.color_jitter_p = check_probability(owner, 'color_jitter_p',
                                                color_jitter_p)
        _jitter_ranges(owner, color_jitter_s)
        if not isinstance(blur, bool):
            raise ValueError(f'{owner}: `blur` must be a bool, got {blur!r}.')
        self.color_jitter_s = (
            dict(color_jitter_s)
            if isinstance(color_jitter_s, Mapping) else color_jitter_s)
        self.blur = blur

    def __call__(self, imgs: Tensor, mean: ChannelValues, std: ChannelValues,
                 generator: torch.Generator) -> Tensor:
        """Strongly transformed copies of the normalized ``imgs``."""
        return strong_transform(
            imgs,
            mean,
            std,
            generator,
            color_jitter_p=self.color_jitter_p,
            color_jitter_s=self.color_jitter_s,
            blur=self.blur)

    def __repr__(self) -> str:
        return (f'{self.__class__.__name__}(color_jitter_p='
                f'{self.color_jitter_p}, color_jitter_s='
                f'{self.color_jitter_s!r}, blur={self.blur})')
