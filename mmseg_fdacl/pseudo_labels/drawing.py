"""Pictures of a finished set: ``image | ground truth | pseudo label``."""
import os
import os.path as osp
import uuid
from typing import TYPE_CHECKING, List, Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mmseg_fdacl.utils import pseudo_label_path
from .files import DatasetLike, file_list, target_items

if TYPE_CHECKING:
    from mmseg.visualization import SegLocalVisualizer

__all__ = ['visualize_pseudo_labels']


def _draw_panels(vis: 'SegLocalVisualizer', image: np.ndarray,
                 maps: Sequence[np.ndarray]) -> np.ndarray:
    """``image`` and each label map in the palette, side by side (RGB)."""
    panels: List[np.ndarray] = [image]
    for seg in maps:
        # One panel per call: add_datasample keeps only the last drawn
        # map as the visualizer's image when no out_file is given.
        sample = SegDataSample()
        sample.pred_sem_seg = PixelData(data=torch.from_numpy(seg)[None])
        vis.add_datasample(
            'pseudo_label', image, sample, draw_gt=False, draw_pred=True,
            show=False, with_labels=False)
        panels.append(vis.get_image())
    return np.concatenate(panels, axis=1)


def visualize_pseudo_labels(label_dir: str,
                            target_dataset: DatasetLike,
                            show_dir: str,
                            indices: Optional[Sequence[int]] = None) -> int:
    """Write ``image | ground truth | pseudo label`` pictures.

    Colors are the dataset palette (Cityscapes'), drawn with MMSeg's
    ``SegLocalVisualizer`` at full opacity; ignored (255) pixels are black.
    The ground-truth panel is left out where there is none. Files mirror the
    image tree under ``show_dir`` (``.png``).

    Args:
        label_dir (str): Pseudo-label folder.
        target_dataset (dict | BaseDataset): The target set.
        show_dir (str): Output folder.
        indices (Sequence[int], optional): Images to draw. Default: all.

    Returns:
        int: Number of pictures written.
    """
    # Imported here: drawing (matplotlib) is not needed to make labels.
    from mmseg.visualization import SegLocalVisualizer
    target = file_list(target_dataset, 'target_dataset')
    vis = SegLocalVisualizer(
        name=f'pseudo_labels_{uuid.uuid4().hex}', alpha=1.0)
    vis.set_dataset_meta(
        classes=target.metainfo['classes'], palette=target.metainfo['palette'])
    wanted = None if indices is None else set(indices)
    count = 0
    for i, img_path, gt_path, root in target_items(target):
        if wanted is not None and i not in wanted:
            continue
        image = cv2.imread(img_path, cv2.IMREAD_COLOR)[..., ::-1].copy()
        maps = [
            cv2.imread(
                pseudo_label_path(img_path, root, label_dir),
                cv2.IMREAD_UNCHANGED)
        ]
        if gt_path and osp.isfile(gt_path):
            maps.insert(0, cv2.imread(gt_path, cv2.IMREAD_UNCHANGED))
        drawn = _draw_panels(vis, image, maps)
        out = pseudo_label_path(img_path, root, show_dir)
        os.makedirs(osp.dirname(out), exist_ok=True)
        cv2.imwrite(out, np.ascontiguousarray(drawn[..., ::-1]))
        count += 1
    return count
