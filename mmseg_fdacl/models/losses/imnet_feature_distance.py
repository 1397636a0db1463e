"""DAFormer's ImageNet feature distance (Hoyer et al., CVPR 2022, Sec. 3.4).

The student's bottleneck features of source images are kept close (L2) to
those of a frozen copy of its ImageNet-initialized backbone, on the pixels of
"thing" classes, so that adaptation does not forget what ImageNet taught about
objects. The formulas follow DAFormer's ``masked_feat_dist`` and
``downscale_label_ratio`` (``mmseg/models/uda/dacs.py``,
``mmseg/models/utils/dacs_transforms.py``).
"""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from mmseg_fdacl.datasets.label_ids import IGNORE_INDEX

__all__ = ['downscale_label_ratio', 'masked_feature_distance',
           'CITYSCAPES_THING_CLASSES']

# DAFormer's ``imnet_feature_dist_classes``: traffic light ... bicycle.
CITYSCAPES_THING_CLASSES = (6, 7, 11, 12, 13, 14, 15, 16, 17, 18)


def downscale_label_ratio(labels: Tensor,
                          size: Sequence[int],
                          min_ratio: float,
                          num_classes: int,
                          ignore_index: int = IGNORE_INDEX) -> Tensor:
    """Labels at feature resolution: each cell's majority class, kept when it
    covers at least ``min_ratio`` of the cell.

    DAFormer average-pools one-hot labels with a kernel of the feature
    stride; here the pooling is adaptive to ``size``, which is the same when
    the stride divides the image and also handles ceil-mode trunks (the
    faithful DeepLabV2 gives 65 x 65 features for a 512 x 512 crop).

    Args:
        labels (Tensor): ``N x H x W`` long labels.
        size (Sequence[int]): ``(h, w)`` of the features.
        min_ratio (float): Share of a cell its class must cover (DAFormer:
            0.75).
        num_classes (int): Number of classes.
        ignore_index (int): Ignored label. Default: 255.

    Returns:
        Tensor: ``N x h x w`` long labels, ``ignore_index`` where no class
        reaches ``min_ratio`` or the majority is ignored.
    """
    lab = labels.clone()
    lab[lab == ignore_index] = num_classes
    onehot = F.one_hot(lab, num_classes + 1).permute(0, 3, 1, 2).float()
    ratio, out = F.adaptive_avg_pool2d(onehot, tuple(size)).max(dim=1)
    out[out == num_classes] = ignore_index
    out[ratio < min_ratio] = ignore_index
    return out


def masked_feature_distance(f1: Tensor,
                            f2: Tensor,
                            mask: Optional[Tensor] = None) -> Tensor:
    """Mean over the masked positions of the L2 distance of two feature maps.

    Args:
        f1 (Tensor): ``N x C x h x w``.
        f2 (Tensor): Same shape.
        mask (Tensor, optional): ``N x h x w`` bool; None uses every
            position.

    Returns:
        Tensor: The scalar mean distance; 0 (with the graph) when the mask is
        empty, where DAFormer's mean of nothing would be NaN.
    """
    dist = torch.norm(f1 - f2, dim=1, p=2)
    if mask is not None:
        dist = dist[mask]
    if dist.numel() == 0:
        return f1.sum() * 0.0
    return dist.mean()
