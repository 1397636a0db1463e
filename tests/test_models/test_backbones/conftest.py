"""Fixtures for the backbone tests: a tiny batch like MMSeg's loader's."""
from typing import Callable, List, Tuple

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample


def _seg_batch(
        n: int = 2,
        h: int = 32,
        w: int = 64,
        num_classes: int = 19,
        seed: int = 0) -> Tuple[List[torch.Tensor], List[SegDataSample]]:
    """``n`` uint8 images (3 x h x w) and samples with labels and metainfo,
    the ``dict(inputs=..., data_samples=...)`` parts of a collated batch."""
    g = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(n):
        inputs.append(torch.randint(0, 256, (3, h, w), generator=g,
                                    dtype=torch.uint8))
        label = torch.randint(0, num_classes, (1, h, w), generator=g)
        label[:, :2] = 255  # some ignored pixels, as in real label maps
        sample = SegDataSample(
            metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                          pad_shape=(h, w)))
        sample.gt_sem_seg = PixelData(data=label)
        samples.append(sample)
    return inputs, samples


@pytest.fixture
def seg_batch() -> Callable[..., Tuple[List[torch.Tensor],
                                       List[SegDataSample]]]:
    """The batch factory ``seg_batch(n=2, h=32, w=64, num_classes=19)``."""
    return _seg_batch
