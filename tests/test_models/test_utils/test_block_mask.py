"""MIC block masks: shape, values, block structure, ratio, odd sizes."""
import pytest
import torch

from mmseg_fdacl.models.utils import BlockMasking, block_masks, mask_images


def _gen(seed):
    return torch.Generator().manual_seed(seed)


def test_shape_values_and_constant_blocks():
    mask = block_masks(3, 64, 96, generator=_gen(0), block_size=16)
    assert mask.shape == (3, 1, 64, 96) and mask.dtype == torch.float32
    assert set(mask.unique().tolist()) <= {0.0, 1.0}
    blocks = mask.view(3, 1, 4, 16, 6, 16)
    assert (blocks == blocks[:, :, :, :1, :, :1]).all()


def test_matches_the_mic_rule_from_the_same_draws():
    mask = block_masks(2, 64, 96, generator=_gen(5), block_size=16, ratio=0.4)
    draws = torch.rand((2, 1, 4, 6), generator=_gen(5))
    expected = (draws > 0.4).float().repeat_interleave(16, 2)
    assert torch.equal(mask, expected.repeat_interleave(16, 3))


def test_masked_fraction_close_to_ratio():
    for ratio in (0.0, 0.3, 0.7):
        mask = block_masks(
            64, 64, 64, generator=_gen(1), block_size=4, ratio=ratio)
        # 16384 independent blocks: the standard error is below 0.004.
        assert float(1 - mask.mean()) == pytest.approx(ratio, abs=0.02)


@pytest.mark.parametrize('h,w,grid', [(100, 130, (2, 2)), (45, 33, (3, 2)),
                                      (7, 200, (1, 3)), (31, 224, (1, 4)),
                                      (96, 160, (2, 2))])
def test_sizes_not_divisible_by_the_block(h, w, grid):
    # MIC: round(H / b) x round(W / b) blocks (Python's round: 2.5 -> 2),
    # then nearest resize: pixel (y, x) takes block (y * gh // H, x * gw // W).
    block = 64 if h != 45 else 16
    mask = block_masks(2, h, w, generator=_gen(2), block_size=block)
    assert mask.shape == (2, 1, h, w)
    draws = torch.rand((2, 1) + grid, generator=_gen(2))
    rows = torch.arange(h) * grid[0] // h
    cols = torch.arange(w) * grid[1] // w
    expected = (draws > 0.7).float()[:, :, rows][:, :, :, cols]
    assert torch.equal(mask, expected)


def test_determinism_and_device():
    first = block_masks(2, 32, 32, generator=_gen(7), block_size=8)
    assert torch.equal(first,
                       block_masks(2, 32, 32, generator=_gen(7), block_size=8))
    assert not torch.equal(
        first, block_masks(2, 32, 32, generator=_gen(8), block_size=8))
    assert block_masks(1, 8, 8, generator=_gen(0), device='cpu').device == \
        torch.device('cpu')


def test_mask_images_and_class_wrapper():
    imgs = torch.randn(2, 3, 32, 48, dtype=torch.float64)
    masking = BlockMasking(block_size=8, ratio=0.5)
    mask = masking.masks(imgs, _gen(3))
    out = masking(imgs, _gen(3))
    assert out.dtype == torch.float64
    assert torch.equal(out, mask_images(imgs, mask))
    assert torch.equal(out, imgs * mask.double())
    assert 'ratio=0.5' in repr(masking)


@pytest.mark.parametrize('kwargs,match', [
    (dict(ratio=1.0), 'ratio'),
    (dict(ratio=-0.1), 'ratio'),
    (dict(block_size=0), 'block_size'),
    (dict(block_size=2.0), 'block_size'),
    (dict(n=0), '`n`'),
    (dict(generator=None), 'torch.Generator'),
])
def test_bad_arguments(kwargs, match):
    args = dict(n=1, h=8, w=8, generator=_gen(0), block_size=4, ratio=0.7)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        block_masks(**args)


def test_bad_mask_shapes():
    with pytest.raises(ValueError, match='N x 1 x H x W'):
        mask_images(torch.ones(2, 3, 4, 4), torch.ones(2, 3, 4, 4))
    with pytest.raises(ValueError, match='ratio'):
        BlockMasking(ratio=1)
