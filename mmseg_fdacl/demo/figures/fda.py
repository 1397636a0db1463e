"""The FDA figure: images in each other's style and their amplitude spectra.

Yang & Soatto, "FDA: Fourier Domain Adaptation for Semantic Segmentation",
CVPR 2020 (the figure mirrors its Fig. 1: the low-frequency window of the
amplitude spectrum is what changes hands).
"""
from typing import List, Sequence, Tuple

import cv2
import mmcv
import numpy as np

from mmseg_fdacl.fda import check_fda_beta, fda_amplitude_swap_np, fda_window

#: A panel: title, image, the betas whose windows are marked solid (none:
#: every beta's, dashed).
Panel = Tuple[str, np.ndarray, List[float]]


def _log_amplitude(img: np.ndarray) -> np.ndarray:
    """Centered ``log(1 + |F|)`` averaged over channels."""
    spec = np.fft.fft2(np.atleast_3d(img).astype(np.float64), axes=(0, 1))
    amp = np.log1p(np.abs(spec)).mean(axis=2)
    return np.fft.fftshift(amp)


def _to_display(img: np.ndarray, channel_order: str) -> np.ndarray:
    img = np.clip(np.round(img), 0, 255).astype(np.uint8)
    if img.ndim == 2 or img.shape[2] == 1:
        return np.repeat(np.atleast_3d(img), 3, axis=2)
    return img[..., ::-1] if channel_order == 'bgr' else img


def _check_args(betas: Sequence[float], channel_order: str) -> List[float]:
    if channel_order not in ('bgr', 'rgb'):
        raise ValueError(f'channel_order must be "bgr" or "rgb", got '
                         f'{channel_order!r}')
    if len(betas) == 0:
        raise ValueError('betas must hold at least one beta in [0, 0.5]')
    return [check_fda_beta(b, 'betas') for b in betas]


def _panels(src: np.ndarray, trg: np.ndarray,
            betas: Sequence[float]) -> List[Panel]:
    """Source, target, the source in the target's style per beta and the
    target in the source's style (largest beta)."""
    b_max = max(betas)
    panels = [('source', src, []), ('target', trg, [])]
    for beta in betas:
        panels.append((f'source in target style\nbeta={beta:g}',
                       fda_amplitude_swap_np(src, trg, beta,
                                             clip=True), [beta]))
    panels.append((f'target in source style\nbeta={b_max:g}',
                   fda_amplitude_swap_np(trg, src, b_max, clip=True), [b_max]))
    return panels


def _spectrum_view(h: int, w: int, b_max: float,
                   zoom: bool) -> Tuple[int, int, int, int]:
    """Rows and columns ``(r0, r1, c0, c1)`` of the spectra shown: with
    ``zoom`` the center, 4x the largest window (at least 8 pixels)."""
    ch, cw = h // 2, w // 2
    half = max(4 * int(np.floor(min(h, w) * b_max)), 8)
    if zoom and 2 * half + 1 < min(h, w):
        return ch - half, ch + half + 1, cw - half, cw + half + 1
    return 0, h, 0, w


def _mark_windows(ax, h: int, w: int, betas: Sequence[float],
                  solid: bool) -> None:
    """The swapped ``(2b+1) x (2b+1)`` window of each beta, centered."""
    from matplotlib.patches import Rectangle
    ch, cw = h // 2, w // 2
    for beta in betas:
        b, _, _ = fda_window(h, w, beta)
        top, left = max(ch - b, 0), max(cw - b, 0)
        width = min(cw + b, w - 1) - left + 1
        height = min(ch + b, h - 1) - top + 1
        ax.add_patch(
            Rectangle((left - 0.5, top - 0.5),
                      width,
                      height,
                      fill=False,
                      lw=1.0,
                      ls='-' if solid else '--',
                      edgecolor='cyan'))


def draw_fda_figure(src: np.ndarray,
                    trg: np.ndarray,
                    betas: Sequence[float] = (0.01, 0.05, 0.09),
                    *,
                    channel_order: str = 'bgr',
                    zoom: bool = True,
                    dpi: int = 100) -> np.ndarray:
    """Draw the FDA grid and return it as an RGB image.

    Top row: source, target, the source in the target's style for each beta,
    and the target in the source's style (largest beta). Bottom row: the
    centered log-amplitude spectra (mean over channels) of each, with the
    swapped ``(2b+1) x (2b+1)`` window marked. The target is resized to the
    source's size (bilinear), as :func:`fda_amplitude_swap_np` does.

    Args:
        src (np.ndarray): Source image ``H x W x C`` (or ``H x W``), 0-255.
        trg (np.ndarray): Target image, same channels, any size.
        betas (Sequence[float]): Betas in ``[0, 0.5]`` to show.
            Default: (0.01, 0.05, 0.09).
        channel_order (str): ``'bgr'`` (as ``mmcv.imread`` loads) or
            ``'rgb'``. Default: 'bgr'.
        zoom (bool): Show only the center of the spectra (4x the largest
            window) so small windows stay visible. Default: True.
        dpi (int): Resolution of the rendered figure. Default: 100.

    Returns:
        np.ndarray: The figure as an ``h x w x 3`` uint8 RGB image.
    """
    # Imported here: only drawing needs matplotlib.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    betas = _check_args(betas, channel_order)
    src = np.asarray(src)
    trg = np.asarray(trg)
    h, w = src.shape[:2]
    if trg.shape[:2] != (h, w):
        trg = cv2.resize(
            trg.astype(np.float32), (w, h),
            interpolation=cv2.INTER_LINEAR).reshape(h, w, *trg.shape[2:])
    panels = _panels(src, trg, betas)
    r0, r1, c0, c1 = _spectrum_view(h, w, max(betas), zoom)
    cols = len(panels)
    aspect = h / w
    fig = Figure(figsize=(2.6 * cols, 2.6 * aspect + 3.3), dpi=dpi)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, cols, height_ratios=[aspect, 1.0])
    for i, (title, img, marked) in enumerate(panels):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(_to_display(img, channel_order))
        ax.set_title(title, fontsize=8)
        ax.axis('off')
        ax = fig.add_subplot(grid[1, i])
        spec = _log_amplitude(img)[r0:r1, c0:c1]
        ax.imshow(
            spec,
            cmap='magma',
            extent=(c0 - 0.5, c1 - 0.5, r1 - 0.5, r0 - 0.5))
        # Windows of every beta on the originals, the used one on the others.
        _mark_windows(ax, h, w, marked or betas, solid=bool(marked))
        ax.set_title(
            'log amplitude' + (' (center)' if zoom else ''), fontsize=7)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    fig.canvas.draw()
    rgba = np.asarray(fig.canvas.buffer_rgba())
    return np.ascontiguousarray(rgba[..., :3])


def save_fda_figure(src: np.ndarray,
                    trg: np.ndarray,
                    out_file: str,
                    betas: Sequence[float] = (0.01, 0.05, 0.09),
                    **kwargs) -> np.ndarray:
    """Draw the FDA grid (see :func:`draw_fda_figure`) and write it as PNG.

    Args:
        src (np.ndarray): Source image.
        trg (np.ndarray): Target image.
        out_file (str): Output path; parent folders are created.
        betas (Sequence[float]): Betas to show.
        **kwargs: Passed to :func:`draw_fda_figure`.

    Returns:
        np.ndarray: The RGB figure that was written.
    """
    fig = draw_fda_figure(src, trg, betas, **kwargs)
    if not mmcv.imwrite(fig[..., ::-1], out_file):
        raise IOError(f'could not write the FDA figure to {out_file!r}')
    return fig
