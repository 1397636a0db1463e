"""Tests of mmseg_fdacl.fda against an independent numpy implementation."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmseg_fdacl.fda import (check_fda_beta, fda_amplitude_swap,
                             fda_amplitude_swap_np, fda_window)

SIZES = [(32, 64), (33, 47), (31, 31), (16, 16), (15, 40)]
BETAS = [0.01, 0.05, 0.09]


def published_fda(src: np.ndarray, trg: np.ndarray, beta: float) -> np.ndarray:
    """The published equation, written out independently (C x H x W, f64).

    Per channel FFT, center the spectrum, copy the reference amplitude into
    the slice ``[c - b : c + b + 1]`` of both axes (numpy clips the slice at
    the edge), keep the source phase, inverse FFT, real part.
    """
    fft_src = np.fft.fft2(src, axes=(-2, -1))
    amp_trg = np.fft.fftshift(
        np.abs(np.fft.fft2(trg, axes=(-2, -1))), axes=(-2, -1))
    amp = np.fft.fftshift(np.abs(fft_src), axes=(-2, -1))
    h, w = src.shape[-2:]
    b = int(np.floor(min(h, w) * beta))
    ch, cw = h // 2, w // 2
    amp[:, ch - b:ch + b + 1, cw - b:cw + b + 1] = \
        amp_trg[:, ch - b:ch + b + 1, cw - b:cw + b + 1]
    amp = np.fft.ifftshift(amp, axes=(-2, -1))
    return np.real(
        np.fft.ifft2(amp * np.exp(1j * np.angle(fft_src)), axes=(-2, -1)))


def _images(h, w, n=1, seed=0, dtype=np.float64):
    """Smooth-plus-noise images, like photos: strong low frequencies."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    out = []
    for _ in range(n):
        a = rng.uniform(0.5, 3, size=(3, 1, 1))
        base = 128 + 80 * np.sin(a * 3 * yy + rng.uniform(0, 6, (3, 1, 1))) \
            * np.cos(a * 2 * xx)
        img = np.clip(base + rng.normal(0, 25, (3, h, w)), 0, 255)
        out.append(img)
    out = np.stack(out)
    if dtype == np.uint8:
        out = np.round(out)
    return out.astype(dtype)


@pytest.mark.parametrize('dtype', [np.uint8, np.float32])
@pytest.mark.parametrize('size', SIZES)
def test_matches_published_equation(size, dtype):
    h, w = size
    src = _images(h, w, n=2, seed=1, dtype=dtype)
    ref = _images(h, w, n=2, seed=2, dtype=dtype)
    for beta in BETAS:
        expected = np.stack([
            published_fda(s.astype(np.float64), r.astype(np.float64), beta)
            for s, r in zip(src, ref)
        ])
        for i in range(2):
            out_np = fda_amplitude_swap_np(src[i].transpose(1, 2, 0),
                                           ref[i].transpose(1, 2, 0), beta)
            assert out_np.dtype == np.float32
            np.testing.assert_allclose(
                out_np.transpose(2, 0, 1), expected[i], atol=1e-3)
        for method in ('auto', 'dft', 'fft'):
            out = fda_amplitude_swap(
                torch.from_numpy(src), torch.from_numpy(ref), beta,
                method=method)
            assert out.dtype == (torch.float32 if dtype == np.uint8 else
                                 torch.from_numpy(src).dtype)
            np.testing.assert_allclose(
                out.double().numpy(), expected, atol=1e-3)


@pytest.mark.parametrize('size', [(32, 64), (20, 20), (21, 21), (30, 21)])
@pytest.mark.parametrize('beta', [0.3, 0.45, 0.5])
def test_wide_and_edge_clipped_windows(size, beta):
    # beta = 0.5 on an even side makes the reference slice run past the end
    # (c + b + 1 = H + 1), which numpy clips; both paths must do the same.
    h, w = size
    src = _images(h, w, seed=3)
    ref = _images(h, w, seed=4)
    expected = published_fda(src[0], ref[0], beta)
    for method in ('dft', 'fft'):
        out = fda_amplitude_swap(
            torch.from_numpy(src), torch.from_numpy(ref), beta, method=method)
        np.testing.assert_allclose(out[0].numpy(), expected, atol=1e-6)
    out_np = fda_amplitude_swap_np(src[0].transpose(1, 2, 0),
                                   ref[0].transpose(1, 2, 0), beta)
    np.testing.assert_allclose(
        out_np.transpose(2, 0, 1), expected, atol=1e-3)


def test_float32_large_image_within_tolerance():
    # float32 work precision at a real training size stays within 1e-3.
    src = _images(128, 256, seed=5, dtype=np.float32)
    ref = _images(128, 256, seed=6, dtype=np.float32)
    expected = published_fda(src[0].astype(np.float64),
                             ref[0].astype(np.float64), 0.09)
    out = fda_amplitude_swap(torch.from_numpy(src), torch.from_numpy(ref),
                             0.09, method='dft')
    np.testing.assert_allclose(out[0].double().numpy(), expected, atol=1e-3)


def test_window():
    assert fda_window(32, 64, 0.0) == (0, [], [])
    b, rows, cols = fda_window(32, 64, 0.1)
    assert b == 3
    assert sorted(rows) == [0, 1, 2, 3, 29, 30, 31]
    assert sorted(cols) == [0, 1, 2, 3, 61, 62, 63]
    # b = 16 = H / 2: the slice [0, 33) clips to all 32 rows.
    b, rows, cols = fda_window(32, 64, 0.5)
    assert b == 16 and sorted(rows) == list(range(32)) and len(cols) == 33
    # A tiny positive beta still swaps the DC coefficient, as the reference.
    assert fda_window(32, 64, 0.01) == (0, [0], [0])


def test_beta_zero_is_identity():
    src = _images(17, 30, seed=7)
    ref = _images(17, 30, seed=8)
    out = fda_amplitude_swap(torch.from_numpy(src), torch.from_numpy(ref), 0)
    assert torch.equal(out, torch.from_numpy(src))
    out_np = fda_amplitude_swap_np(src[0].transpose(1, 2, 0),
                                   ref[0].transpose(1, 2, 0), 0.0)
    np.testing.assert_allclose(
        out_np, src[0].transpose(1, 2, 0).astype(np.float32))


@pytest.mark.parametrize('beta', BETAS + [0.5])
def test_swap_with_itself_is_identity(beta):
    src = torch.from_numpy(_images(24, 40, n=2, seed=9))
    for method in ('dft', 'fft'):
        out = fda_amplitude_swap(src, src, beta, method=method)
        torch.testing.assert_close(out, src, atol=1e-8, rtol=0)


@pytest.mark.parametrize('beta', [0.05, 0.2])
def test_amplitude_and_phase_properties(beta):
    h, w = 24, 37
    src = _images(h, w, seed=10)
    ref = _images(h, w, seed=11)
    out = fda_amplitude_swap(torch.from_numpy(src), torch.from_numpy(ref),
                             beta)[0].numpy()
    f_out = np.fft.fft2(out, axes=(-2, -1))
    f_src = np.fft.fft2(src[0], axes=(-2, -1))
    f_ref = np.fft.fft2(ref[0], axes=(-2, -1))
    _, rows, cols = fda_window(h, w, beta)
    inside = np.zeros((h, w), dtype=bool)
    inside[np.ix_(rows, cols)] = True
    np.testing.assert_allclose(
        np.abs(f_out)[:, inside], np.abs(f_ref)[:, inside], rtol=1e-9)
    np.testing.assert_allclose(
        np.abs(f_out)[:, ~inside], np.abs(f_src)[:, ~inside], rtol=1e-7,
        atol=1e-7)
    # Phase is the source's everywhere: compare unit phasors.
    keep = np.abs(f_src) > 1e-6
    unit_out = f_out[keep] / np.abs(f_out[keep])
    unit_src = f_src[keep] / np.abs(f_src[keep])
    np.testing.assert_allclose(unit_out, unit_src, atol=1e-7)


def test_shared_reference_broadcasts():
    src = torch.from_numpy(_images(20, 28, n=3, seed=12))
    ref = torch.from_numpy(_images(20, 28, n=1, seed=13))
    shared = fda_amplitude_swap(src, ref, 0.1)
    expanded = fda_amplitude_swap(src, ref.expand(3, -1, -1, -1), 0.1)
    torch.testing.assert_close(shared, expanded)


@pytest.mark.parametrize('ref_size', [(40, 56), (13, 19)])
def test_reference_of_other_size_is_resized_bilinearly(ref_size):
    src = _images(20, 28, seed=14)
    ref = _images(*ref_size, seed=15)
    out = fda_amplitude_swap(torch.from_numpy(src), torch.from_numpy(ref), 0.1)
    resized = F.interpolate(
        torch.from_numpy(ref), size=(20, 28), mode='bilinear',
        align_corners=False)
    torch.testing.assert_close(
        out, fda_amplitude_swap(torch.from_numpy(src), resized, 0.1))
    # The numpy twin resizes with cv2.INTER_LINEAR, the same half-pixel
    # bilinear rule (no antialiasing).
    ref_hwc = ref[0].transpose(1, 2, 0).astype(np.float32)
    out_np = fda_amplitude_swap_np(src[0].transpose(1, 2, 0), ref_hwc, 0.1)
    cv_resized = cv2.resize(ref_hwc, (28, 20), interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(
        out_np,
        fda_amplitude_swap_np(src[0].transpose(1, 2, 0), cv_resized, 0.1))
    np.testing.assert_allclose(
        out_np.transpose(2, 0, 1), out[0].numpy(), atol=0.05)


def test_grayscale_numpy_input():
    src = _images(16, 24, seed=16)[0, 0]
    ref = _images(16, 24, seed=17)[0, 0]
    out = fda_amplitude_swap_np(src, ref, 0.1)
    assert out.shape == (16, 24)
    np.testing.assert_allclose(
        out, published_fda(src[None], ref[None], 0.1)[0], atol=1e-3)


def test_clip_and_finite():
    src = torch.from_numpy(_images(16, 32, seed=18))
    ref = src.flip(-1) * 4  # four times the low-frequency amplitude
    out = fda_amplitude_swap(src, ref, 0.3, clip=True)
    assert out.min() >= 0 and out.max() <= 255
    assert fda_amplitude_swap(src, ref, 0.3).max() > 255  # clipping mattered
    # Zero amplitudes everywhere: phase 0, no NaN/Inf.
    zeros = torch.zeros(1, 3, 16, 32)
    for method in ('dft', 'fft'):
        out = fda_amplitude_swap(zeros, ref, 0.09, method=method)
        assert torch.isfinite(out).all()
        out = fda_amplitude_swap(src, zeros, 0.09, method=method)
        assert torch.isfinite(out).all()
    out_np = fda_amplitude_swap_np(
        np.zeros((16, 32, 3)), ref[0].numpy().transpose(1, 2, 0), 0.09,
        clip=True)
    assert np.isfinite(out_np).all() and out_np.min() >= 0


def test_float16_input_keeps_dtype():
    src = torch.from_numpy(_images(16, 32, seed=19)).half()
    out = fda_amplitude_swap(src, src.flip(0), 0.05)
    assert out.dtype == torch.float16 and torch.isfinite(out).all()


@pytest.mark.parametrize('beta', [-0.01, 0.51, float('nan'), 'x', None])
def test_bad_beta(beta):
    src = torch.zeros(1, 3, 8, 8)
    with pytest.raises(ValueError, match='beta'):
        fda_amplitude_swap(src, src, beta)
    with pytest.raises(ValueError, match='beta'):
        fda_amplitude_swap_np(np.zeros((8, 8, 3)), np.zeros((8, 8, 3)), beta)
    with pytest.raises(ValueError, match='fda.beta'):
        check_fda_beta(beta, name='fda.beta')


def test_bad_shapes_and_method():
    src = torch.zeros(2, 3, 8, 8)
    with pytest.raises(ValueError, match='method'):
        fda_amplitude_swap(src, src, 0.1, method='fast')
    with pytest.raises(ValueError, match='ref'):
        fda_amplitude_swap(src, torch.zeros(3, 3, 8, 8), 0.1)
    with pytest.raises(ValueError, match='ref'):
        fda_amplitude_swap(src, torch.zeros(2, 1, 8, 8), 0.1)
    with pytest.raises(ValueError, match='N x C x H x W'):
        fda_amplitude_swap(src[0], src[0], 0.1)
    with pytest.raises(ValueError, match='channels'):
        fda_amplitude_swap_np(np.zeros((8, 8, 3)), np.zeros((8, 8, 1)), 0.1)
