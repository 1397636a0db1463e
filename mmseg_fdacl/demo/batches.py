"""Random in-memory batches, collated as the dataloader yields them.

For the benchmarks and tests: uint8 images (upsampled coarse noise plus fine
noise) and blocky label maps with some ignored pixels, so a ``train_step``
runs without data on disk.
"""
import copy
from typing import Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample


def random_image(rng: np.random.Generator, h: int, w: int) -> np.ndarray:
    """``h x w x 3`` uint8 image: upsampled coarse noise plus fine noise."""
    coarse = rng.uniform(0, 255, (max(h // 32, 2), max(w // 32, 2), 3))
    img = cv2.resize(
        coarse.astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    img = img + rng.normal(0, 12, (h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def random_labels(rng: np.random.Generator, h: int, w: int,
                  num_classes: int) -> np.ndarray:
    """``h x w`` uint8 blocky label map, about 5% of it ignored (255)."""
    cells = rng.integers(0, num_classes, (max(h // 32, 2), max(w // 32, 2)))
    lab = cv2.resize(
        cells.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST)
    lab[rng.random((h, w)) < 0.05] = 255
    return lab


def _sample(rng: np.random.Generator, h: int, w: int, num_classes: int,
            with_label: bool) -> Tuple[torch.Tensor, SegDataSample]:
    img = torch.from_numpy(random_image(rng, h, w))
    img = img.permute(2, 0, 1).contiguous()
    sample = SegDataSample()
    sample.set_metainfo(
        dict(img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w)))
    if with_label:
        lab = torch.from_numpy(random_labels(rng, h, w, num_classes)).long()
        sample.gt_sem_seg = PixelData(data=lab[None])
    return img, sample


def make_batch(mode: str,
               batch: int,
               crop: Sequence[int],
               num_classes: int = 19,
               seed: int = 0) -> dict:
    """A collated batch as the dataloader yields it for a training mode.

    Args:
        mode (str): ``'source-only'`` (labeled source images only),
            ``'stage1'`` (plus unlabeled target images) or ``'stage2'``
            (plus target images with pseudo labels).
        batch (int): Images per domain.
        crop (Sequence[int]): ``(H, W)``.
        num_classes (int): Label range. Default: 19.
        seed (int): Generator seed. Default: 0.

    Returns:
        dict: ``inputs`` and ``data_samples``, and for the UDA modes
        ``target_inputs`` and ``target_data_samples``.
    """
    rng = np.random.default_rng(seed)
    h, w = crop
    src = [_sample(rng, h, w, num_classes, True) for _ in range(batch)]
    data = dict(inputs=[s[0] for s in src], data_samples=[s[1] for s in src])
    if mode != 'source-only':
        trg = [
            _sample(rng, h, w, num_classes, mode == 'stage2')
            for _ in range(batch)
        ]
        data['target_inputs'] = [t[0] for t in trg]
        data['target_data_samples'] = [t[1] for t in trg]
    return data


def fresh_batch(data: dict) -> dict:
    """A copy whose data samples the preprocessor may modify in place."""
    out = dict(data)
    for key in ('data_samples', 'target_data_samples'):
        if key in data:
            out[key] = [copy.deepcopy(s) for s in data[key]]
    return out
