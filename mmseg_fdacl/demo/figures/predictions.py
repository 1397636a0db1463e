"""Prediction grids: images, ground truth and label maps in the Cityscapes
palette, drawn with MMSeg's ``SegLocalVisualizer``."""
import uuid
from typing import Callable, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.datasets import CityscapesDataset
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

#: A grid column: its title and a function of the image path giving a
#: train-id map (or None: no cell).
Column = Tuple[str, Callable[[str], Optional[np.ndarray]]]


def palette_visualizer() -> SegLocalVisualizer:
    """A visualizer that paints label maps opaquely in the Cityscapes
    palette (ignored and unknown ids black)."""
    vis = SegLocalVisualizer(
        name=f'demo_palette_{uuid.uuid4().hex}', alpha=1.0)
    vis.set_dataset_meta(
        classes=CityscapesDataset.METAINFO['classes'],
        palette=CityscapesDataset.METAINFO['palette'])
    return vis


def colorize(vis: SegLocalVisualizer, label: np.ndarray) -> np.ndarray:
    """A train-id map as an RGB image in the visualizer's palette.

    Args:
        vis (SegLocalVisualizer): See :func:`palette_visualizer`.
        label (np.ndarray): ``H x W`` train ids (255: ignored).

    Returns:
        np.ndarray: ``H x W x 3`` uint8 RGB.
    """
    sample = SegDataSample()
    sample.pred_sem_seg = PixelData(data=torch.from_numpy(label)[None])
    blank = np.zeros(label.shape + (3, ), np.uint8)
    vis.add_datasample(
        'label',
        blank,
        sample,
        draw_gt=False,
        draw_pred=True,
        show=False,
        with_labels=False)
    return vis.get_image()


def _caption(img: np.ndarray, text: str) -> np.ndarray:
    bar = np.full((16, img.shape[1], 3), 255, np.uint8)
    cv2.putText(bar, text, (3, 12), cv2.FONT_HERSHEY_SIMPLEX, 0.38, (0, 0, 0),
                1, cv2.LINE_AA)
    return np.concatenate([bar, img], 0)


def prediction_grid(images: Sequence[str], columns: Sequence[Column],
                    out_file: str) -> None:
    """Write a grid: one row per image, the image and then one cell per
    column (its map resized to the image, nearest), each captioned; RGB
    PNG.

    Args:
        images (Sequence[str]): Image paths, one row each.
        columns (Sequence[Column]): ``(title, function(img_path) -> train-id
            map or None)``; None leaves the cell out.
        out_file (str): The PNG written.
    """
    vis = palette_visualizer()
    rows = []
    for path in images:
        img = cv2.imread(path)[..., ::-1]
        h, w = img.shape[:2]
        cells = [_caption(img, 'image')]
        for title, fn in columns:
            lab = fn(path)
            if lab is None:
                continue
            if lab.shape != (h, w):
                lab = cv2.resize(lab, (w, h), interpolation=cv2.INTER_NEAREST)
            cells.append(_caption(colorize(vis, lab), title))
        rows.append(np.concatenate(cells, 1))
    width = max(r.shape[1] for r in rows)
    rows = [
        np.pad(
            r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255)
        for r in rows
    ]
    cv2.imwrite(out_file, np.concatenate(rows, 0)[..., ::-1])
