"""Tiny models and generated data trees shared by the tests.

Everything here is small enough for CPU tests: 32x64 images, a ResNet-18 trunk
with 4 base channels. Data trees follow the real GTA5 / Cityscapes layouts.
"""
import os
import os.path as osp
from typing import Sequence, Tuple

import cv2
import numpy as np

from mmseg_fdacl.datasets.label_ids import TRAIN_ID_TO_LABEL_ID
from mmseg_fdacl.demo.models import deeplabv2_cfg

# The Cityscapes label definition (cityscapesscripts' labels.py: label id ->
# train id of the 19 evaluated classes, the GTA5 map too), written out apart
# from the library: only the expectation of the tests of
# mmseg_fdacl.datasets.label_ids. Everything else uses the library's table.
REFERENCE_ID_TO_TRAINID = {
    7: 0, 8: 1, 11: 2, 12: 3, 13: 4, 17: 5, 19: 6, 20: 7, 21: 8, 22: 9,
    23: 10, 24: 11, 25: 12, 26: 13, 27: 14, 28: 15, 31: 16, 32: 17, 33: 18
}


def tiny_deeplabv2_cfg(num_classes: int = 19) -> dict:
    """A DeepLabV2 model config small enough for CPU tests (ResNet-18, 4 ch).

    The demo's model (``configs/fdacl/demo/_base_demo.py``) with 4 base
    channels (stem 8), dilations (1, 2), plain cross-entropy and no fixed
    input size.
    """
    return deeplabv2_cfg(
        base_channels=4,
        stem_channels=8,
        dilations=(1, 2),
        num_classes=num_classes,
        crop=None)


def tiny_mit_daformer_cfg(num_classes: int = 19) -> dict:
    """MiT with the DAFormer head, small enough for CPU tests.

    The model base ``configs/_base_/models/daformer_sepaspp_mitb5.py`` with
    embed_dims 8 (stage widths 8, 16, 40, 64), one layer per stage and a
    16-channel head; the same layer types as MiT-B5 (sr ratios, separable
    ASPP fusion, BN).
    """
    from mmengine.config import Config
    model = Config.fromfile(osp.join(
        osp.dirname(osp.dirname(osp.abspath(__file__))),
        'configs/_base_/models/daformer_sepaspp_mitb5.py')).model
    model.backbone.update(embed_dims=8, num_layers=[1, 1, 1, 1])
    model.decode_head.update(in_channels=[8, 16, 40, 64], channels=16,
                             embed_dims=16, num_classes=num_classes)
    return dict(backbone=model.backbone.to_dict(),
                decode_head=model.decode_head.to_dict())


def _random_scene(rng: np.random.Generator, size: Tuple[int, int],
                  num_classes: int) -> Tuple[np.ndarray, np.ndarray]:
    """Blocky random train-id map and a BGR image whose color follows it."""
    h, w = size
    cells = rng.integers(0, num_classes, size=(4, 8))
    trainid = cv2.resize(cells.astype(np.uint8), (w, h),
                         interpolation=cv2.INTER_NEAREST)
    palette = np.linspace(0, 255, num_classes)[:, None] * np.array(
        [1.0, 0.5, 0.25])
    img = palette[trainid] + rng.normal(0, 10, size=(h, w, 3))
    return np.clip(img, 0, 255).astype(np.uint8), trainid


def make_gta5_tree(root: str, num: int = 4, size: Tuple[int, int] = (32, 64),
                   seed: int = 0, with_train_ids: bool = True) -> str:
    """Write a GTA5-layout tree: images/NNNNN.png, labels/NNNNN.png (label ids).

    With ``with_train_ids`` the converted ``labels/NNNNN_labelTrainIds.png``
    are written too. Returns ``root``.
    """
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(root, 'images'), exist_ok=True)
    os.makedirs(osp.join(root, 'labels'), exist_ok=True)
    lut = np.zeros(256, np.uint8)
    lut[:len(TRAIN_ID_TO_LABEL_ID)] = TRAIN_ID_TO_LABEL_ID
    for i in range(num):
        img, trainid = _random_scene(rng, size, 19)
        name = f'{i + 1:05d}'
        cv2.imwrite(osp.join(root, 'images', name + '.png'), img)
        cv2.imwrite(osp.join(root, 'labels', name + '.png'), lut[trainid])
        if with_train_ids:
            cv2.imwrite(
                osp.join(root, 'labels', name + '_labelTrainIds.png'), trainid)
    return root


def make_cityscapes_tree(root: str,
                         splits: Sequence[Tuple[str, int]] = (('train', 4),
                                                              ('val', 2)),
                         size: Tuple[int, int] = (32, 64),
                         seed: int = 1,
                         city: str = 'aachen') -> str:
    """Write a Cityscapes-layout tree with ``*_gtFine_labelTrainIds.png``.

    Layout: ``leftImg8bit/{split}/{city}/{city}_000000_NNNNNN_leftImg8bit.png``
    and ``gtFine/{split}/{city}/..._gtFine_labelTrainIds.png``. Returns ``root``.
    """
    rng = np.random.default_rng(seed)
    for split, num in splits:
        img_dir = osp.join(root, 'leftImg8bit', split, city)
        ann_dir = osp.join(root, 'gtFine', split, city)
        os.makedirs(img_dir, exist_ok=True)
        os.makedirs(ann_dir, exist_ok=True)
        for i in range(num):
            img, trainid = _random_scene(rng, size, 19)
            stem = f'{city}_000000_{i:06d}'
            cv2.imwrite(osp.join(img_dir, stem + '_leftImg8bit.png'), img)
            cv2.imwrite(
                osp.join(ann_dir, stem + '_gtFine_labelTrainIds.png'), trainid)
    return root

