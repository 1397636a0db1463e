"""Small pure helpers of :class:`UDAEncoderDecoder`."""
import math
from typing import Dict

import torch
from mmseg.utils import SampleList
from torch import Tensor


def check_weight(name: str, value) -> float:
    if (not isinstance(value, (int, float)) or isinstance(value, bool)
            or not math.isfinite(value) or value < 0):
        raise ValueError(f'UDAEncoderDecoder: `{name}` must be a finite '
                         f'number >= 0, got {value!r}.')
    return float(value)


def suffix_keys(losses: Dict[str, Tensor], suffix: str) -> Dict[str, Tensor]:
    """``decode.loss_ce`` -> ``loss_ce{suffix}``, ``aux.loss_ce`` ->
    ``aux.loss_ce{suffix}``, ``decode.acc_seg`` -> ``acc_seg{suffix}``."""
    out = {}
    for key, value in losses.items():
        if key.startswith('decode.'):
            key = key[len('decode.'):]
        out[key + suffix] = value
    return out


def valid_mask(inputs: Tensor, samples: SampleList) -> Tensor:
    """``N x H x W``: True inside each image, False on its padding."""
    n, _, h, w = inputs.shape
    mask = inputs.new_zeros((n, h, w), dtype=torch.bool)
    for i, sample in enumerate(samples):
        ih, iw = sample.metainfo.get('img_shape', (h, w))[:2]
        mask[i, :ih, :iw] = True
    return mask

def stack_pseudo_labels(samples: SampleList) -> Tensor:
    if not samples or any('gt_sem_seg' not in s for s in samples):
        raise ValueError(
            'UDAEncoderDecoder: the contrastive and pseudo-label terms '
            'need target pseudo labels; set the UDADataset '
            '`pseudo_label_dir` (train_dataloader.dataset.pseudo_label_dir'
            ') and put LoadPseudoLabel in the target pipeline.')
    return torch.stack([s.gt_sem_seg.data for s in samples]).squeeze(1)
