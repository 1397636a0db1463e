"""HRDA's crop boxes: random detail crops on the offset grid, sliding boxes
and the averaging of overlapping crop predictions, by hand."""
import pytest
import torch

from mmseg_fdacl.models.utils.crops import (crop, paste_average,
                                            random_crop_box, scale_box,
                                            slide_boxes)


def test_random_crop_box_is_inside_and_on_the_grid():
    gen = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(200):
        y1, y2, x1, x2 = random_crop_box(1024, 1024, (512, 512), 8, gen)
        assert y1 % 8 == 0 and x1 % 8 == 0
        assert y2 - y1 == 512 and x2 - x1 == 512
        assert 0 <= y1 and y2 <= 1024 and 0 <= x1 and x2 <= 1024
        seen.add(y1)
    # HRDA's get_crop_bbox: offsets in [0, (512 + 1) // 8) x 8, the last
    # one (512) included.
    assert max(seen) <= 504 and len(seen) > 30
    assert random_crop_box(8, 8, (8, 8), 8, gen) == (0, 8, 0, 8)
    with pytest.raises(ValueError, match='divisible'):
        random_crop_box(10, 10, (8, 8), 16, gen)


def test_crop_and_scale_box():
    t = torch.arange(16).view(1, 1, 4, 4)
    assert crop(t, (1, 3, 2, 4)).flatten().tolist() == [6, 7, 10, 11]
    assert crop(t[0, 0], (0, 1, 0, 2)).tolist() == [[0, 1]]
    assert scale_box((8, 24, 16, 40), 8) == (1, 3, 2, 5)
    assert scale_box((8, 24, 16, 40), 16) == (0, 1, 1, 2)  # truncated


def test_slide_boxes_follow_mmsegs_grid():
    # 2048 x 1024 with 1024 crops and stride 512: 1 row, 3 columns.
    assert slide_boxes(1024, 2048, (1024, 1024), (512, 512)) == [
        (0, 1024, 0, 1024), (0, 1024, 512, 1536), (0, 1024, 1024, 2048)
    ]
    # The last window is shifted back to the border.
    assert slide_boxes(4, 7, (4, 4), (2, 2))[-1] == (0, 4, 3, 7)
    # A crop larger than the image is clipped to it.
    assert slide_boxes(4, 4, (8, 8), (4, 4)) == [(0, 4, 0, 4)]


def test_paste_average_by_hand():
    # Two 2x3 crops of a 2x4 map overlapping on columns 1-2, batch of 1.
    a = torch.full((1, 1, 2, 3), 2.0)
    b = torch.full((1, 1, 2, 3), 4.0)
    out = paste_average(torch.cat([a, b]), [(0, 2, 0, 3), (0, 2, 1, 4)], 1,
                        (2, 4))
    assert out[0, 0, 0].tolist() == [2.0, 3.0, 3.0, 4.0]
    # Box-major order with a batch of 2.
    crops = torch.tensor([1.0, 10.0, 3.0, 30.0]).view(4, 1, 1, 1)
    out = paste_average(crops, [(0, 1, 0, 1), (0, 1, 0, 1)], 2, (1, 1))
    assert out.flatten().tolist() == [2.0, 20.0]
    with pytest.raises(ValueError, match='uncovered'):
        paste_average(a, [(0, 2, 0, 3)], 1, (2, 4))
