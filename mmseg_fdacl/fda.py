"""Fourier domain adaptation: swap the low-frequency amplitude spectrum.

Yang & Soatto, "FDA: Fourier Domain Adaptation for Semantic Segmentation",
CVPR 2020. The semantics follow the paper's numpy reference
(``FDA_source_to_target_np``): per channel 2-D FFT, ``fftshift``, replace the
source amplitude with the reference amplitude inside the centered window
``[c - b : c + b + 1]`` of each axis (``c = floor(n / 2)``,
``b = floor(min(H, W) * beta)``; numpy slicing clips the window at the array
edge), ``ifftshift``, recombine with the source phase, inverse FFT, real part.

Two implementations of the same operation:

* :func:`fda_amplitude_swap_np` is the literal full-FFT algorithm in float64
  (the per-image numpy reference).
* :func:`fda_amplitude_swap` is the batched torch path. Only the
  ``(2b+1)^2`` window coefficients change, so by default it computes exactly
  those with partial DFT matrices (``X_win = E_h @ x @ E_w``) and adds the
  change back as a low-rank correction
  ``x + Re(E_h^H @ (X_new - X_win) @ E_w^H) / (H * W)``: no full FFT at all.
  For wide windows a real-FFT path (``rfft2``/``irfft2``) is cheaper and is
  picked automatically. Both equal the reference to floating-point accuracy.

``beta == 0`` returns the source unchanged. (The reference code with
``L = 0`` would still swap the 1x1 DC coefficient; any ``beta > 0`` whose
window rounds to ``b = 0`` does swap the DC coefficient, as the reference.)
A reference of a different size is resized to the source size with bilinear
interpolation on half-pixel centers (``cv2.INTER_LINEAR`` /
``F.interpolate(mode='bilinear', align_corners=False)``, no antialiasing).
A zero amplitude has phase 0, so the output is never NaN or Inf for finite
inputs.
"""
import math
from functools import lru_cache
from typing import List, Tuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = [
    'fda_window', 'fda_amplitude_swap', 'fda_amplitude_swap_np',
    'check_fda_beta'
]

BETA_RANGE = (0.0, 0.5)
_METHODS = ('auto', 'dft', 'fft')


def check_fda_beta(beta: float, name: str = 'beta') -> float:
    """Validate an FDA beta and return it as a float.

    Args:
        beta (float): Window size relative to ``min(H, W)``.
        name (str): Argument name used in the error message.

    Returns:
        float: ``beta`` as a Python float.

    Raises:
        ValueError: If ``beta`` is not a finite number in ``[0, 0.5]``.
    """
    try:
        value = float(beta)
    except (TypeError, ValueError):
        raise ValueError(f'{name} must be a number in [0, 0.5], got '
                         f'{beta!r}') from None
    if isinstance(beta, bool) or not (BETA_RANGE[0] <= value <= BETA_RANGE[1]):
        raise ValueError(f'{name} must be in [0, 0.5] (the window half-size '
                         f'is floor(min(H, W) * {name})), got {beta!r}')
    return value


def _axis_freqs(n: int, b: int) -> List[int]:
    """Unshifted frequency indices of the centered window along one axis.

    ``fftshift`` maps frequency ``k`` to position ``(k + n // 2) % n``; the
    window is positions ``[c - b, c + b]`` clipped to ``[0, n - 1]`` exactly
    like numpy slicing in the reference.
    """
    c = n // 2
    lo, hi = max(c - b, 0), min(c + b + 1, n)
    return [(i - c) % n for i in range(lo, hi)]


def fda_window(height: int, width: int,
               beta: float) -> Tuple[int, List[int], List[int]]:
    """The swapped window of an image of the given size.

    Args:
        height (int): Image height ``H``.
        width (int): Image width ``W``.
        beta (float): Window size relative to ``min(H, W)``, in ``[0, 0.5]``.

    Returns:
        tuple: ``(b, rows, cols)``: the half-size
        ``b = floor(min(H, W) * beta)`` and the unshifted frequency indices
        (as used by ``np.fft.fft2``) of the window's rows and columns. Both
        lists are empty when ``beta == 0``.
    """
    beta = check_fda_beta(beta)
    if beta == 0:
        return 0, [], []
    b = int(math.floor(min(height, width) * beta))
    return b, _axis_freqs(height, b), _axis_freqs(width, b)


def _fda_window_mask(height: int, width: int, beta: float) -> np.ndarray:
    """Boolean ``H x W`` mask of the window in unshifted FFT layout."""
    _, rows, cols = fda_window(height, width, beta)
    mask = np.zeros((height, width), dtype=bool)
    if rows:
        mask[np.ix_(rows, cols)] = True
    return mask


def fda_amplitude_swap_np(src: np.ndarray,
                          ref: np.ndarray,
                          beta: float,
                          *,
                          clip: bool = False) -> np.ndarray:
    """Give one image the low-frequency amplitude of another (numpy, float64).

    The literal reference algorithm: a full complex FFT per channel.

    Args:
        src (np.ndarray): Source image, ``H x W x C`` or ``H x W``, any real
            dtype, 0-255 pixels (before normalization).
        ref (np.ndarray): Reference image with the same number of channels;
            resized bilinearly (``cv2.INTER_LINEAR``) to ``H x W`` if needed.
        beta (float): Window size relative to ``min(H, W)``, in ``[0, 0.5]``.
        clip (bool): Clip the result to ``[0, 255]``. Default: False.

    Returns:
        np.ndarray: float32 image with the shape of ``src``.
    """
    beta = check_fda_beta(beta)
    src = np.asarray(src)
    ref = np.asarray(ref)
    if src.ndim not in (2, 3) or ref.ndim != src.ndim:
        raise ValueError(f'src and ref must both be H x W x C or H x W '
                         f'arrays, got shapes {src.shape} and {ref.shape}')
    if src.ndim == 3 and src.shape[2] != ref.shape[2]:
        raise ValueError(f'src and ref must have the same number of channels, '
                         f'got {src.shape[2]} and {ref.shape[2]}')
    h, w = src.shape[:2]
    out_src = src.astype(np.float64)
    if beta == 0:
        out = out_src
    else:
        if ref.shape[:2] != (h, w):
            ref = cv2.resize(ref.astype(np.float32), (w, h),
                             interpolation=cv2.INTER_LINEAR)
            ref = ref.reshape(h, w, *src.shape[2:])
        x = np.atleast_3d(out_src).transpose(2, 0, 1)
        r = np.atleast_3d(ref.astype(np.float64)).transpose(2, 0, 1)
        fft_src = np.fft.fft2(x, axes=(-2, -1))
        amp_ref = np.abs(np.fft.fft2(r, axes=(-2, -1)))
        amp_src, pha_src = np.abs(fft_src), np.angle(fft_src)
        mask = _fda_window_mask(h, w, beta)
        amp_src[:, mask] = amp_ref[:, mask]
        out = np.real(
            np.fft.ifft2(amp_src * np.exp(1j * pha_src), axes=(-2, -1)))
        out = out.transpose(1, 2, 0).reshape(src.shape)
    if clip:
        out = np.clip(out, 0, 255)
    return out.astype(np.float32)


@lru_cache(maxsize=64)
def _dft_rows(n: int, freqs: Tuple[int, ...], dtype: torch.dtype,
              device: str) -> Tensor:
    """Partial DFT matrix ``E[k, t] = exp(-2 pi i f_k t / n)`` (complex)."""
    t = np.arange(n)
    # Reduce f * t modulo n in integers so large sizes keep full precision.
    phase = -2 * np.pi * (np.outer(freqs, t) % n) / n
    real_dtype = torch.float64 if dtype == torch.complex128 else torch.float32
    mat = torch.complex(
        torch.from_numpy(np.cos(phase)).to(real_dtype),
        torch.from_numpy(np.sin(phase)).to(real_dtype))
    return mat.to(device)


@lru_cache(maxsize=64)
def _dft_cols_real(n: int, freqs: Tuple[int, ...], dtype: torch.dtype,
                   device: str) -> Tensor:
    """``[cos | -sin]`` of the partial DFT along the last axis, ``n x 2m``.

    ``x @ E`` with ``E = cos - i sin`` is ``x @ cos - i x @ sin``, and
    ``Re(G @ E^H) = [Re G, Im G] @ [cos | -sin]^T``, so one real matrix serves
    both the forward projection and the correction.
    """
    t = np.arange(n)
    phase = 2 * np.pi * (np.outer(t, freqs) % n) / n
    mat = np.concatenate([np.cos(phase), -np.sin(phase)], axis=1)
    return torch.from_numpy(mat).to(dtype=dtype, device=device)


def _window_coeffs(x: Tensor, rows: Tuple[int, ...],
                   cols: Tuple[int, ...]) -> Tensor:
    """Window coefficients of ``fft2(x)`` for ``x`` of shape ``B x H x W``."""
    bsz, h, w = x.shape
    m = len(cols)
    cdtype = torch.complex128 if x.dtype == torch.float64 else torch.complex64
    e_w = _dft_cols_real(w, cols, x.dtype, str(x.device))
    proj = (x.reshape(bsz * h, w) @ e_w).view(bsz, h, 2 * m)
    # x @ (cos - i sin) = proj[..., :m] - i * (x @ sin) = proj[:m] + i proj[m:]
    proj = torch.complex(proj[..., :m], proj[..., m:])
    e_h = _dft_rows(h, rows, cdtype, str(x.device))
    return e_h @ proj


def _new_coeffs(coeffs: Tensor, amp_ref: Tensor) -> Tensor:
    """Reference amplitude with the source phase (phase 0 where amp is 0)."""
    amp = coeffs.abs()
    unit = torch.where(amp > 0, coeffs / amp.clamp_min(1e-30),
                       torch.ones_like(coeffs))
    return amp_ref * unit


def _swap_dft(x: Tensor, amp_ref: Tensor, rows: Tuple[int, ...],
              cols: Tuple[int, ...]) -> Tensor:
    """Low-rank path: only the window coefficients, no full FFT.

    ``cols`` are the window's non-negative column frequencies: the change of
    the spectrum is Hermitian, so column ``-l`` contributes the conjugate of
    column ``l`` and the real part of the correction is twice that of the
    half window (once for the self-conjugate DC and Nyquist columns).

    The source's window coefficients are projected in float64: their phase
    is kept while their amplitude may grow many times (to the reference's),
    so float32 rounding there would be amplified. The reference amplitude and
    the correction are insensitive and stay in the working dtype.
    """
    bsz, h, w = x.shape
    m = len(cols)
    weight = x.new_tensor(
        [1.0 if c == 0 or 2 * c == w else 2.0 for c in cols]) / (h * w)
    cdtype = torch.complex128 if x.dtype == torch.float64 else torch.complex64
    x_win = _window_coeffs(x.double(), rows, cols)
    delta = (_new_coeffs(x_win, amp_ref.double()) - x_win).to(cdtype) * weight
    e_h = _dft_rows(h, rows, cdtype, str(x.device))
    g = e_h.conj().transpose(0, 1) @ delta  # B x H x m
    g = torch.cat([g.real, g.imag], dim=-1).reshape(bsz * h, 2 * m)
    e_w = _dft_cols_real(w, cols, x.dtype, str(x.device))
    return torch.addmm(x.reshape(bsz * h, w), g,
                       e_w.transpose(0, 1)).view(bsz, h, w)


def _swap_fft(x: Tensor, amp_ref: Tensor, rows: Tuple[int, ...],
              cols: Tuple[int, ...]) -> Tensor:
    """Real-FFT path for wide windows.

    The modified spectrum is Hermitian (the window is symmetric under
    negation and a real image's amplitude is even), so ``irfft2`` of the
    half spectrum equals the real part of the reference's full ``ifft2``.
    """
    h, w = x.shape[-2:]
    rows_t = torch.tensor(rows, device=x.device)
    cols_t = torch.tensor(cols, device=x.device)
    spec = torch.fft.rfft2(x)
    x_win = spec[:, rows_t][:, :, cols_t]
    spec[:, rows_t.view(-1, 1), cols_t.view(1, -1)] = _new_coeffs(
        x_win, amp_ref)
    return torch.fft.irfft2(spec, s=(h, w))


def _pick_method(h: int, w: int, m: int) -> str:
    """Cheaper path for ``m`` half-window columns (CPU crossover, measured).

    The DFT path costs three skinny GEMMs (one in float64), growing with
    ``m H W``; the FFT path is ``rfft2`` + ``irfft2``, growing with
    ``H W log2(H W)``, plus the reference projection. Timed with
    ``tools/benchmarks/bench_fda.py`` at 512x512 and 512x1024 the two cross
    near ``m = 1.4 log2(H W)`` (``beta`` about 0.05 at 512 rows).
    """
    return 'dft' if 4 * m <= 5.5 * math.log2(h * w) else 'fft'


def fda_amplitude_swap(src: Tensor,
                       ref: Tensor,
                       beta: float,
                       *,
                       clip: bool = False,
                       method: str = 'auto') -> Tensor:
    """Give a batch of images the low-frequency amplitude of references.

    Args:
        src (Tensor): Source images ``N x C x H x W`` (float, or integer
            which is converted to float32), 0-255 pixels before
            normalization, on any device.
        ref (Tensor): References ``N x C x H' x W'`` (one per source) or
            ``1 x C x H' x W'`` (shared); resized bilinearly
            (``align_corners=False``) to ``H x W`` if the size differs.
        beta (float): Window size relative to ``min(H, W)``, in ``[0, 0.5]``.
        clip (bool): Clip the result to ``[0, 255]``. Default: False.
        method (str): ``'dft'`` (window coefficients + low-rank correction),
            ``'fft'`` (real FFTs) or ``'auto'`` (cheaper of the two).
            Default: 'auto'.

    Returns:
        Tensor: Stylized images, same shape and device as ``src``, dtype of
        ``src`` (float32 for integer ``src``). Computation runs in float64
        for float64 inputs and float32 otherwise.
    """
    beta = check_fda_beta(beta)
    if method not in _METHODS:
        raise ValueError(f'method must be one of {_METHODS}, got {method!r}')
    if src.dim() != 4 or ref.dim() != 4:
        raise ValueError(f'src and ref must be N x C x H x W tensors, got '
                         f'shapes {tuple(src.shape)} and {tuple(ref.shape)}')
    n, c, h, w = src.shape
    if ref.shape[1] != c or ref.shape[0] not in (1, n):
        raise ValueError(f'ref must be {n} x {c} x H x W or 1 x {c} x H x W '
                         f'to match src {tuple(src.shape)}, got '
                         f'{tuple(ref.shape)}')
    out_dtype = src.dtype if src.is_floating_point() else torch.float32
    work = torch.float64 if src.dtype == torch.float64 else torch.float32
    x = src.to(work)
    if beta > 0:
        b, rows, cols = fda_window(h, w, beta)
        r = ref.to(device=src.device, dtype=work)
        if r.shape[-2:] != (h, w):
            r = F.interpolate(r, size=(h, w), mode='bilinear',
                              align_corners=False)
        # Non-negative column frequencies suffice (Hermitian symmetry).
        rows, cols = tuple(rows), tuple(c for c in cols if c <= w // 2)
        if method == 'auto':
            method = _pick_method(h, w, len(cols))
        swap = _swap_dft if method == 'dft' else _swap_fft
        shared = None
        if r.shape[0] == 1:
            shared = _window_coeffs(r.reshape(c, h, w), rows, cols).abs()
        # Chunks of about one 512x1024 RGB image keep the operands in cache.
        step = max(1, (3 << 19) // (c * h * w))
        out = torch.empty_like(x)
        for i in range(0, n, step):
            xc = x[i:i + step]
            k = xc.shape[0]
            if shared is None:
                amp_ref = _window_coeffs(r[i:i + step].reshape(k * c, h, w),
                                         rows, cols).abs()
            else:
                amp_ref = shared.repeat(k, 1, 1)
            out[i:i + step] = swap(xc.reshape(k * c, h, w), amp_ref, rows,
                                   cols).view(k, c, h, w)
        x = out
    if clip:
        x = x.clamp(0, 255)
    return x.to(out_dtype)
