"""Strong transform: identities, hand computations, independent references
(colorsys for HSV, a numpy 2-D convolution for the blur), seeding."""
import colorsys

import numpy as np
import pytest
import torch

from mmseg_fdacl.models.utils import (StrongTransform, blur_kernel_size,
                                      color_jitter, gaussian_blur,
                                      strong_transform)

CAFFE_BGR_MEAN = [104.00698793, 116.66876762, 122.67891434]
CAFFE_STD = [1.0, 1.0, 1.0]
RGB_MEAN = torch.tensor([123.675, 116.28, 103.53])
RGB_STD = torch.tensor([58.395, 57.12, 57.375])


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def _normalized(n=2, h=16, w=20, seed=0, mean=CAFFE_BGR_MEAN, std=CAFFE_STD):
    raw = torch.rand((n, 3, h, w), generator=_gen(seed)) * 255
    mean = torch.as_tensor(mean).view(1, 3, 1, 1)
    std = torch.as_tensor(std).view(1, 3, 1, 1)
    return raw, (raw - mean) / std


def test_no_jitter_no_blur_is_identity():
    _, imgs = _normalized()
    out = strong_transform(
        imgs,
        CAFFE_BGR_MEAN,
        CAFFE_STD,
        _gen(0),
        color_jitter_p=0.0,
        blur=False)
    assert torch.equal(out, imgs) and out is not imgs


@pytest.mark.parametrize('mean,std', [(CAFFE_BGR_MEAN, CAFFE_STD),
                                      (RGB_MEAN, RGB_STD)])
def test_blur_of_size_one_is_identity_after_denorm_and_renorm(mean, std):
    # Sides below 15 pixels give a 1 x 1 kernel: only denorm/renorm remain.
    _, imgs = _normalized(h=12, w=14, mean=mean, std=std)
    for seed in range(4):
        out = strong_transform(
            imgs, mean, std, _gen(seed), color_jitter_p=0.0, blur=True)
        assert torch.allclose(out, imgs, atol=1e-4)


def _replayed_factors(seed, n):
    """The documented stream: rand(2), then rand(N, 4), all float64."""
    gen = _gen(seed)
    decisions = torch.rand(2, generator=gen, dtype=torch.float64)
    return decisions, torch.rand((n, 4), generator=gen, dtype=torch.float64)


@pytest.mark.parametrize('mean,std', [(CAFFE_BGR_MEAN, CAFFE_STD),
                                      (RGB_MEAN, RGB_STD)])
def test_brightness_only_matches_hand_computation(mean, std):
    raw, imgs = _normalized(n=3, mean=mean, std=std)
    out = strong_transform(
        imgs,
        mean,
        std,
        _gen(11),
        color_jitter_p=1.0,
        color_jitter_s={'brightness': 0.2},
        blur=False)
    _, draws = _replayed_factors(11, 3)
    factor = (0.8 + 0.4 * draws[:, 0]).float().view(3, 1, 1, 1)
    # kornia: x / 255 + (factor - 1), clamped to [0, 1], back to 0-255.
    expected_raw = (raw + 255 * (factor - 1)).clamp(0, 255)
    mean = torch.as_tensor(mean).view(1, 3, 1, 1)
    std = torch.as_tensor(std).view(1, 3, 1, 1)
    assert torch.allclose(out, (expected_raw - mean) / std, atol=1e-3)
    assert len(set(factor.flatten().tolist())) == 3  # one factor per image


def test_brightness_and_contrast_follow_the_order():
    x = torch.tensor([0.1, 0.5, 0.9]).view(1, 3, 1, 1)
    b, c = 1.1, 1.5
    bc = color_jitter(x, brightness=b, contrast=c, order=(0, 1, 2, 3))
    cb = color_jitter(x, brightness=b, contrast=c, order=(1, 0, 2, 3))
    assert torch.allclose(bc.flatten(), torch.tensor([0.3, 0.9, 1.0]))
    assert torch.allclose(cb.flatten(), torch.tensor([0.25, 0.85, 1.0]))


def _colorsys_reference(x, saturation=None, hue=None):
    out = np.empty_like(x)
    for i in range(x.shape[0]):
        for y in range(x.shape[2]):
            for z in range(x.shape[3]):
                h, s, v = colorsys.rgb_to_hsv(*x[i, :, y, z])
                if saturation is not None:
                    s = min(max(s * saturation[i], 0.0), 1.0)
                if hue is not None:
                    h = (h + hue[i]) % 1.0
                out[i, :, y, z] = colorsys.hsv_to_rgb(h, s, v)
    return out


def test_saturation_and_hue_match_colorsys():
    x = torch.rand((2, 3, 4, 5), generator=_gen(4), dtype=torch.float64)
    x[0, :, 0, 0] = 0.5  # gray: zero saturation, hue undefined
    x[1, :, 0, 0] = 0.0  # black
    x[1, 0, 1, 1] = x[1, 1, 1, 1] = 0.9  # a tie between two channels
    sat, hue = [0.8, 1.3], [-0.15, 0.2]
    got = color_jitter(x, saturation=torch.tensor(sat, dtype=torch.float64))
    ref = _colorsys_reference(x.numpy(), saturation=sat)
    np.testing.assert_allclose(got.numpy(), ref, atol=1e-12)
    got = color_jitter(x, hue=torch.tensor(hue, dtype=torch.float64))
    ref = _colorsys_reference(x.numpy(), hue=hue)
    np.testing.assert_allclose(got.numpy(), ref, atol=1e-12)


def test_identity_factors_round_trip():
    x = torch.rand((2, 3, 6, 7), generator=_gen(5))
    out = color_jitter(
        x,
        brightness=1.0,
        contrast=1.0,
        saturation=1.0,
        hue=0.0,
        order=(3, 2, 1, 0))
    assert torch.allclose(out, x, atol=1e-6)


def test_hue_on_bgr_is_the_mirror_rotation():
    # Why the channel order does not matter: f on BGR equals -f on RGB.
    x = torch.rand((2, 3, 5, 5), generator=_gen(6), dtype=torch.float64)
    f = torch.tensor([0.13, -0.07], dtype=torch.float64)
    assert torch.allclose(
        color_jitter(x.flip(1), hue=f),
        color_jitter(x, hue=-f).flip(1))


def _numpy_blur(x, kernel_size, sigma):
    """2-D outer-product Gaussian (kornia's kernel) with reflected borders."""
    kh, kw = kernel_size

    def gauss(k):
        t = np.arange(k) - k // 2
        g = np.exp(-t**2 / (2 * sigma**2))
        return g / g.sum()

    kernel = np.outer(gauss(kh), gauss(kw))
    padded = np.pad(
        x, ((0, 0), (0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)),
        mode='reflect')
    out = np.zeros_like(x)
    for dy in range(kh):
        for dx in range(kw):
            out += kernel[dy, dx] * padded[:, :, dy:dy + x.shape[2],
                                           dx:dx + x.shape[3]]
    return out


def test_gaussian_blur_matches_numpy_reference():
    x = torch.rand((2, 3, 12, 15), generator=_gen(7), dtype=torch.float64)
    got = gaussian_blur(x, 0.8, kernel_size=(5, 3))
    np.testing.assert_allclose(
        got.numpy(), _numpy_blur(x.numpy(), (5, 3), 0.8), atol=1e-12)
    big = torch.rand((1, 3, 40, 60), generator=_gen(8), dtype=torch.float64)
    np.testing.assert_allclose(
        gaussian_blur(big, 1.1).numpy(),
        _numpy_blur(big.numpy(), (3, 5), 1.1),
        atol=1e-12)
    flat = torch.full((1, 3, 30, 30), 7.0)
    assert torch.allclose(gaussian_blur(flat, 1.0), flat)


@pytest.mark.parametrize('size,k', [(1, 1), (10, 1), (15, 1), (25, 3), (30, 3),
                                    (512, 51), (720, 71), (1024, 103),
                                    (2048, 205)])
def test_blur_kernel_size(size, k):
    assert blur_kernel_size(size) == k


def test_blur_is_applied_about_half_the_time_with_the_drawn_sigma():
    _, imgs = _normalized(n=1, h=40, w=40)
    applied = 0
    for seed in range(24):
        out = strong_transform(
            imgs, CAFFE_BGR_MEAN, CAFFE_STD, _gen(seed), color_jitter_p=0.0)
        decisions, _ = _replayed_factors(seed, 1)
        assert (not torch.equal(out, imgs)) == bool(decisions[1] < 0.5)
        if decisions[1] < 0.5:
            applied += 1
            gen = _gen(seed)
            for shape in (2, (1, 4), 4):
                torch.rand(shape, generator=gen, dtype=torch.float64)
            sigma = 0.15 + float(
                torch.rand(1, generator=gen, dtype=torch.float64))
            mean = torch.tensor(CAFFE_BGR_MEAN).view(1, 3, 1, 1)
            expected = gaussian_blur(imgs + mean, sigma) - mean
            assert torch.allclose(out, expected, atol=1e-3)
    assert 5 <= applied <= 19


@pytest.mark.parametrize(
    'dtype', [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_output_keeps_dtype_and_device(dtype):
    _, imgs = _normalized()
    imgs = imgs.to(dtype)
    out = strong_transform(
        imgs,
        torch.tensor(CAFFE_BGR_MEAN),
        CAFFE_STD,
        _gen(1),
        color_jitter_p=1.0)
    assert out.dtype == dtype and out.device == imgs.device
    assert out.shape == imgs.shape and torch.isfinite(out.float()).all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_cuda_matches_cpu_for_the_same_generator_state():
    _, imgs = _normalized(n=2, h=64, w=64)
    cpu = strong_transform(
        imgs, CAFFE_BGR_MEAN, CAFFE_STD, _gen(2), color_jitter_p=1.0)
    gpu = strong_transform(
        imgs.cuda(), CAFFE_BGR_MEAN, CAFFE_STD, _gen(2), color_jitter_p=1.0)
    assert gpu.device.type == 'cuda'
    assert torch.allclose(gpu.cpu(), cpu, atol=1e-3)
    with pytest.raises(ValueError, match='CPU generator'):
        strong_transform(imgs, CAFFE_BGR_MEAN, CAFFE_STD,
                         torch.Generator(device='cuda'))


def test_generator_advances_deterministically():
    _, imgs = _normalized(n=3)
    gen_a, gen_b = _gen(9), _gen(9)
    out_a = strong_transform(
        imgs, CAFFE_BGR_MEAN, CAFFE_STD, gen_a, color_jitter_p=1.0)
    out_b = strong_transform(
        imgs, CAFFE_BGR_MEAN, CAFFE_STD, gen_b, color_jitter_p=1.0)
    assert torch.equal(out_a, out_b)
    assert torch.equal(gen_a.get_state(), gen_b.get_state())
    # The same advance whatever the settings and outcomes: 2 + 4N + 4 + 1
    # float64 draws.
    reference = _gen(9)
    for shape in (2, (3, 4), 4, 1):
        torch.rand(shape, generator=reference, dtype=torch.float64)
    for kwargs in (dict(color_jitter_p=0.0,
                        blur=False), dict(color_jitter_s=0.5), dict()):
        gen = _gen(9)
        strong_transform(imgs, CAFFE_BGR_MEAN, CAFFE_STD, gen, **kwargs)
        assert torch.equal(gen.get_state(), reference.get_state())
    # The state resumes: a restored generator repeats the next call.
    saved = gen_a.get_state()
    nxt = strong_transform(
        imgs, CAFFE_BGR_MEAN, CAFFE_STD, gen_a, color_jitter_p=1.0)
    restored = torch.Generator()
    restored.set_state(saved)
    assert torch.equal(
        nxt,
        strong_transform(
            imgs, CAFFE_BGR_MEAN, CAFFE_STD, restored, color_jitter_p=1.0))


def test_different_seeds_differ_and_factors_are_per_image():
    _, imgs = _normalized(n=2)
    imgs = torch.cat([imgs[:1], imgs[:1]])
    out_a = strong_transform(
        imgs,
        CAFFE_BGR_MEAN,
        CAFFE_STD,
        _gen(1),
        color_jitter_p=1.0,
        blur=False)
    out_b = strong_transform(
        imgs,
        CAFFE_BGR_MEAN,
        CAFFE_STD,
        _gen(2),
        color_jitter_p=1.0,
        blur=False)
    assert not torch.equal(out_a, out_b)
    assert not torch.allclose(out_a[0], out_a[1])


def test_class_wrapper_matches_function():
    _, imgs = _normalized()
    aug = StrongTransform(color_jitter_p=1.0, color_jitter_s=0.3, blur=True)
    assert torch.equal(
        aug(imgs, CAFFE_BGR_MEAN, CAFFE_STD, _gen(3)),
        strong_transform(
            imgs,
            CAFFE_BGR_MEAN,
            CAFFE_STD,
            _gen(3),
            color_jitter_p=1.0,
            color_jitter_s=0.3))
    assert 'color_jitter_p=1.0' in repr(aug)


@pytest.mark.parametrize('kwargs,match', [
    (dict(color_jitter_p=1.5), 'color_jitter_p'),
    (dict(color_jitter_p=True), 'color_jitter_p'),
    (dict(color_jitter_s=-0.1), 'color_jitter_s'),
    (dict(color_jitter_s={'gamma': 0.1}), 'unknown'),
    (dict(color_jitter_s={'hue': float('nan')}), 'hue'),
    (dict(blur=1), 'blur'),
    (dict(generator=None), 'torch.Generator'),
    (dict(mean=[1.0, 2.0]), 'mean'),
    (dict(std=[1.0, 0.0, 1.0]), 'std'),
    (dict(imgs=torch.zeros(1, 1, 4, 4)), 'N x 3 x H x W'),
    (dict(imgs=torch.zeros(1, 3, 4, 4, dtype=torch.long)), 'floating'),
])
def test_bad_arguments(kwargs, match):
    args = dict(
        imgs=torch.zeros(1, 3, 8, 8),
        mean=CAFFE_BGR_MEAN,
        std=CAFFE_STD,
        generator=_gen(0))
    args.update(kwargs)
    before = args['generator'].get_state() if args['generator'] else None
    with pytest.raises(ValueError, match=match):
        strong_transform(**args)
    if before is not None:  # a refused call draws nothing
        assert torch.equal(args['generator'].get_state(), before)
    if set(kwargs) <= {'color_jitter_p', 'color_jitter_s', 'blur'}:
        with pytest.raises(ValueError, match=match):
            StrongTransform(**kwargs)


def test_bad_jitter_and_blur_arguments():
    x = torch.rand(2, 3, 4, 4)
    with pytest.raises(ValueError, match='order'):
        color_jitter(x, order=(0, 1, 2))
    with pytest.raises(ValueError, match=r'shape \(2,\)'):
        color_jitter(x, brightness=torch.ones(3))
    with pytest.raises(ValueError, match='sigma'):
        gaussian_blur(x, 0.0)
    with pytest.raises(ValueError, match='kernel_size'):
        gaussian_blur(x, 1.0, kernel_size=(4, 3))
    with pytest.raises(ValueError, match='kernel_size'):
        gaussian_blur(x, 1.0, kernel_size=(9, 3))
